// at::parallel_for for the files that use it. Its `#pragma omp parallel` is
// compiled in the including file, so without -fopenmp it silently runs on one
// thread: src/moe/module.cmake lists the files built with OpenMP, and this
// stops any other file from compiling.
#pragma once
#include <ATen/Parallel.h>
#include <ATen/ThreadLocalState.h>

#include <algorithm>

#ifndef _OPENMP
#error "compile with -fopenmp: add this file to the OpenMP list in its module.cmake (see src/moe/module.cmake)"
#endif

namespace smoes::moe {

// at::parallel_for whose workers run with the caller's thread-local state.
// OpenMP workers start with the defaults (grad mode on even inside an autograd
// Function's forward or under a NoGradGuard, no dispatch exclusions), and an
// out= op on a tensor that requires grad then throws.
template <class F>
void parallel_for_as_caller(int64_t begin, int64_t end, int64_t grain, const F& f) {
  const at::ThreadLocalState caller_state;
  at::parallel_for(begin, end, grain, [&](int64_t b, int64_t e) {
    at::ThreadLocalStateGuard same_state(caller_state);
    f(b, e);
  });
}

// Rows of `width` elements per task for a row-wise kernel: ATen's grain of
// 32768 elements, so the small rows of a decode step stay on one thread
// instead of paying a fork and join for a few microseconds of work.
inline int64_t rows_per_task(int64_t width) { return std::max<int64_t>(1, at::internal::GRAIN_SIZE / std::max<int64_t>(1, width)); }

}  // namespace smoes::moe
