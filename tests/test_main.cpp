// Test main: the same runtime set-up as the CLI (threads, AVX-512, allocator),
// and a private temp directory per test process.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/runtime.h"

namespace {

// ctest -j runs each suite in its own process, in parallel; suites that use
// fixed names under temp_directory_path() would otherwise race each other.
// TMPDIR is what std::filesystem::temp_directory_path() reads on POSIX.
std::filesystem::path make_private_tmpdir() {
  auto dir = std::filesystem::temp_directory_path() / ("smoes_test_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  ::setenv("TMPDIR", dir.c_str(), 1);
  return dir;
}

}  // namespace

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  smoes::init_runtime();
  const auto tmp = make_private_tmpdir();
  const int rc = RUN_ALL_TESTS();
  if (std::getenv("SMOES_KEEP_TEST_TMP")) {  // to look at what a failing test left
    std::fprintf(stderr, "kept %s\n", tmp.c_str());
    return rc;
  }
  std::error_code ignored;
  std::filesystem::remove_all(tmp, ignored);
  return rc;
}
