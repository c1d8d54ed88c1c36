#include "core/runtime.h"

#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <malloc.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "core/error.h"

namespace smoes {

bool cpu_has_avx512() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("flags", 0) == 0) return line.find(" avx512f") != std::string::npos;
  return false;
}

int default_thread_count() {
  if (const char* env = std::getenv("SMOES_THREADS")) {
    char* end = nullptr;
    long n = std::strtol(env, &end, 10);
    if (end == env || *end != '\0' || n < 1 || n > 4096)
      throw Error("SMOES_THREADS='" + std::string(env) + "': expected a thread count between 1 and 4096");
    return static_cast<int>(n);
  }
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

// ATen keeps get_cpu_capability() private; show_config() reports the same
// value ("CPU capability usage: AVX512").
static std::string dispatched_cpu_capability() {
  std::string config = at::show_config();
  const std::string key = "CPU capability usage: ";
  auto at_key = config.find(key);
  if (at_key == std::string::npos) return "unknown";
  auto begin = at_key + key.size();
  std::string value = config.substr(begin, config.find('\n', begin) - begin);
  for (auto& ch : value) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return value;
}

RuntimeInfo init_runtime(int threads) {
  static bool once = [] {
    // ATen reads this lazily at its first kernel dispatch, so setting it
    // before any tensor op is enough; a user's own setting wins.
    if (cpu_has_avx512()) setenv("ATEN_CPU_CAPABILITY", "avx512", /*overwrite=*/0);
    // glibc gives blocks > 32 MiB back to the OS on free, so big activations
    // page-fault every step; keep them in the heap instead (STACK.md: 1.6x).
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    return true;
  }();
  (void)once;
  RuntimeInfo info;
  info.threads = threads > 0 ? threads : default_thread_count();
  at::set_num_threads(info.threads);
  info.cpu_capability = dispatched_cpu_capability();
  info.cpu_has_avx512 = cpu_has_avx512();
  return info;
}

}  // namespace smoes
