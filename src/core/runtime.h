// Process-wide runtime setup, done once at start-up by the CLI, tests and
// benchmarks: intra-op threads, AVX-512 kernels, allocator policy.
#pragma once
#include <string>

namespace smoes {

struct RuntimeInfo {
  int threads = 0;
  std::string cpu_capability;  // what ATen dispatches to: default/avx2/avx512
  bool cpu_has_avx512 = false;
};

// Sets threads to `threads` (0 = SMOES_THREADS, else all cores), selects the
// AVX-512 ATen kernels where the CPU has them (ATEN_CPU_CAPABILITY, unless the
// user set it), and keeps large blocks in the heap (see STACK.md's allocator
// trap). Call before any tensor work; calling again only changes threads.
RuntimeInfo init_runtime(int threads = 0);

bool cpu_has_avx512();
int default_thread_count();  // SMOES_THREADS or the number of cores

}  // namespace smoes
