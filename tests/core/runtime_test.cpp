#include "core/runtime.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

#include "core/doctor.h"
#include "core/error.h"

TEST(Runtime, UsesAllCoresOrSmoesThreads) {
  unsetenv("SMOES_THREADS");
  auto info = smoes::init_runtime();
  EXPECT_EQ(info.threads, static_cast<int>(std::thread::hardware_concurrency()));
  EXPECT_EQ(at::get_num_threads(), info.threads);
  setenv("SMOES_THREADS", "1", 1);
  EXPECT_EQ(smoes::init_runtime().threads, 1);
  EXPECT_EQ(at::get_num_threads(), 1);
  setenv("SMOES_THREADS", "lots", 1);
  EXPECT_THROW(smoes::default_thread_count(), smoes::Error);
  unsetenv("SMOES_THREADS");
  smoes::init_runtime();
}

TEST(Runtime, Avx512KernelsWhereTheCpuHasThem) {
  auto info = smoes::init_runtime();
  if (info.cpu_has_avx512 && std::getenv("ATEN_CPU_CAPABILITY") == std::string("avx512"))
    EXPECT_EQ(info.cpu_capability, "avx512");
  EXPECT_FALSE(info.cpu_capability.empty());
}

TEST(Doctor, ClassifiesBlasLibraries) {
  EXPECT_EQ(smoes::classify_blas("/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3"), "openblas-openmp");
  EXPECT_EQ(smoes::classify_blas("/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3"), "openblas-pthread");
  EXPECT_EQ(smoes::classify_blas("/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0"), "reference");
  EXPECT_EQ(smoes::classify_blas(""), "none");
}

TEST(Doctor, MatmulRateIsPositiveAndFinite) {
  double gflops = smoes::measure_matmul_gflops(128, 0.01);
  // Only sanity: a busy machine (training beside the tests) can be very slow.
  EXPECT_GT(gflops, 0.0);
  EXPECT_TRUE(std::isfinite(gflops));
  EXPECT_LT(gflops, 1e5);
}

// The rate counts the timed calls only: one warm-up call, then at least one
// more, and the rate is those timed calls over at least min_seconds.
TEST(Doctor, CallsPerSecondWarmsUpThenTimesAtLeastMinSeconds) {
  int calls = 0;
  const double rate = smoes::calls_per_second([&] { ++calls; }, 0.02);
  EXPECT_GE(calls, 2);
  EXPECT_GT(rate, 0.0);
  EXPECT_LE(rate, (calls - 1) / 0.02);  // elapsed >= 0.02 s over calls - 1 timed calls
}
