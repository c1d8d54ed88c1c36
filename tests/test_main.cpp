// Test main: the same runtime set-up as the CLI (threads, AVX-512, allocator).
#include <gtest/gtest.h>

#include "core/runtime.h"

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  smoes::init_runtime();
  return RUN_ALL_TESTS();
}
