#include "core/doctor.h"

#include <link.h>
#include <sys/statvfs.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "core/runtime.h"

namespace smoes {
namespace {

int collect_blas(struct dl_phdr_info* info, size_t, void* out) {
  std::string name = info->dlpi_name ? info->dlpi_name : "";
  if (name.find("libblas.so") != std::string::npos) {
    std::error_code ec;
    auto real = std::filesystem::canonical(name, ec);
    *static_cast<std::string*>(out) = ec ? name : real.string();
  }
  return 0;
}

}  // namespace

std::string classify_blas(const std::string& path) {
  if (path.empty()) return "none";
  if (path.find("openblas-openmp") != std::string::npos) return "openblas-openmp";
  if (path.find("openblas-pthread") != std::string::npos) return "openblas-pthread";
  if (path.find("openblas-serial") != std::string::npos) return "openblas-serial";
  if (path.find("/blas/") != std::string::npos) return "reference";
  if (path.find("blis") != std::string::npos) return "blis";
  if (path.find("mkl") != std::string::npos) return "mkl";
  return "other";
}

double calls_per_second(const std::function<void()>& f, double min_seconds) {
  f();  // warm-up: thread pool, packing buffers, JIT kernels
  int reps = 0;
  const auto start = std::chrono::steady_clock::now();
  double elapsed = 0;
  do {
    f();
    ++reps;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  } while (elapsed < min_seconds);
  return reps / elapsed;
}

double measure_matmul_gflops(int n, double min_seconds) {
  torch::NoGradGuard no_grad;
  auto a = torch::randn({n, n}), b = torch::randn({n, n}), c = torch::empty({n, n});
  return 2.0 * n * n * static_cast<double>(n) * calls_per_second([&] { at::matmul_out(c, a, b); }, min_seconds) / 1e9;
}

DoctorReport run_doctor(const std::string& disk_path, double min_gflops) {
  DoctorReport r;
  r.torch_version = TORCH_VERSION;
  dl_iterate_phdr(collect_blas, &r.blas_path);
  r.blas_kind = classify_blas(r.blas_path);
  RuntimeInfo rt = init_runtime(at::get_num_threads());
  r.threads = rt.threads;
  r.cores = static_cast<int>(std::thread::hardware_concurrency());
  r.cpu_capability = rt.cpu_capability;
  r.cpu_has_avx512 = rt.cpu_has_avx512;
  r.matmul_size = 1024;
  r.matmul_gflops = measure_matmul_gflops(r.matmul_size, 1.0);
  struct statvfs fs{};
  if (statvfs(disk_path.c_str(), &fs) == 0) r.free_disk_gb = double(fs.f_bavail) * fs.f_frsize / 1e9;

  const std::string fix = "run `sudo bash scripts/bootstrap.sh` (it selects OpenBLAS-openmp)";
  if (r.blas_kind == "reference")
    r.failures.push_back("BLAS is the slow reference implementation (" + r.blas_path + ", 17-40x slower): " + fix);
  else if (r.blas_kind == "openblas-pthread")
    r.failures.push_back("BLAS is pthread OpenBLAS, which fights OpenMP (2-3x slower): " + fix);
  else if (r.blas_kind != "openblas-openmp")
    r.warnings.push_back("BLAS is '" + r.blas_kind + "' (" + r.blas_path + "); smoes is tuned for OpenBLAS-openmp");
  if (r.cpu_has_avx512 && r.cpu_capability != "avx512")
    r.failures.push_back("CPU has AVX-512 but ATen dispatches to " + r.cpu_capability +
                         " kernels (ATEN_CPU_CAPABILITY is set to something else)");
  if (std::getenv("SMOES_THREADS") == nullptr && r.threads != r.cores)
    r.warnings.push_back("using " + std::to_string(r.threads) + " threads on " + std::to_string(r.cores) + " cores");
  if (r.matmul_gflops < min_gflops)
    r.warnings.push_back("fp32 matmul runs at " + std::to_string(int(r.matmul_gflops)) + " GFLOP/s, below " +
                         std::to_string(int(min_gflops)) + " (is the machine busy?)");
  if (r.free_disk_gb < 2) r.warnings.push_back("less than 2 GB of free disk at " + disk_path);
  return r;
}

nlohmann::json DoctorReport::to_json() const {
  return {{"torch_version", torch_version}, {"blas_path", blas_path},       {"blas_kind", blas_kind},
          {"matmul_gflops", matmul_gflops}, {"matmul_size", matmul_size},   {"threads", threads},
          {"cores", cores},                 {"cpu_capability", cpu_capability}, {"cpu_has_avx512", cpu_has_avx512},
          {"free_disk_gb", free_disk_gb},   {"failures", failures},         {"warnings", warnings}};
}

}  // namespace smoes
