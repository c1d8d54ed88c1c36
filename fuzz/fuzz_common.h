// What every fuzz target shares (docs/RELIABILITY.md, "Fuzzing"):
//   * guard(): runs one reader call. smoes::Error is the expected answer to
//     bad input; any other exception escaping a reader is a finding (an
//     nlohmann type_error means a field was used without being checked, a
//     std::out_of_range an unchecked index, ...), so it aborts and libFuzzer
//     saves the input as a crash.
//   * finding(): a broken property (e.g. a round trip that differs) -> abort.
//   * Files: the loaders read paths, so an input is written to a file in a
//     private folder (/dev/shm when there is one) removed at exit; formats of
//     two files (VQA questions + annotations, REFER's pickle + instances.json)
//     take one input split at kSeparator.
#pragma once
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

#include "core/error.h"

namespace fuzz {

namespace fs = std::filesystem;

// Between the files of a two-file input (the seeds put it there; the
// fuzzer's mutations keep or break it).
inline constexpr std::string_view kSeparator = "\n@@smoes-fuzz-next-file@@\n";

[[noreturn]] inline void finding(const std::string& what) {
  std::fprintf(stderr, "\n==smoes-fuzz== FINDING: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

// Runs f; smoes::Error is fine, anything else is a finding.
template <class F>
void guard(const char* call, F&& f) {
  try {
    f();
  } catch (const smoes::Error&) {
  } catch (const std::exception& e) {
    finding(std::string(call) + " let a " + typeid(e).name() + " escape (not smoes::Error): " + e.what());
  } catch (...) {
    finding(std::string(call) + " let a non-std exception escape");
  }
}

// A private folder for this process (under $SMOES_FUZZ_TMP, else /dev/shm
// when there is one), removed at a normal exit.
inline const std::string& work_dir() {
  static const std::string* dir = [] {
    std::error_code ec;
    fs::path base;
    if (const char* tmp = std::getenv("SMOES_FUZZ_TMP"))
      base = tmp;
    else if (fs::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0)
      base = "/dev/shm";
    else
      base = fs::temp_directory_path();
    fs::path d = base / ("smoes-fuzz-" + std::to_string(::getpid()));
    fs::remove_all(d, ec);
    fs::create_directories(d);
    auto* s = new std::string(d.string());  // never destroyed: the atexit handler below reads it
    std::atexit([] {
      std::error_code ec2;
      fs::remove_all(work_dir(), ec2);
    });
    return s;
  }();
  return *dir;
}

// work_dir()/rel, with its folders made.
inline std::string path(const std::string& rel) {
  fs::path p = fs::path(work_dir()) / rel;
  fs::create_directories(p.parent_path());
  return p.string();
}

inline void write(const std::string& file, std::string_view bytes) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
  if (!out) finding("cannot write " + file);
}

// Writes the input to work_dir()/rel and returns the path.
inline std::string write_input(const std::string& rel, std::string_view bytes) {
  std::string p = path(rel);
  write(p, bytes);
  return p;
}

// The input cut at each kSeparator, padded with empty parts to `parts`;
// what follows the (parts-1)-th separator stays in the last part.
inline std::vector<std::string_view> split(std::string_view input, size_t parts) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < parts) {
    size_t at = input.find(kSeparator);
    if (at == std::string_view::npos) break;
    out.push_back(input.substr(0, at));
    input.remove_prefix(at + kSeparator.size());
  }
  out.push_back(input);
  while (out.size() < parts) out.push_back({});
  return out;
}

inline std::string_view as_view(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace fuzz
