// Health checks of the machine smoes runs on (what `smoes doctor` prints):
// LibTorch version, the BLAS actually loaded, a measured matmul rate, threads,
// CPU kernels and free disk. Problems that make training 17-40x slower fail.
#pragma once
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace smoes {

struct DoctorReport {
  std::string torch_version;
  std::string blas_path;     // the libblas.so.3 the process really loaded
  std::string blas_kind;     // openblas-openmp, openblas-pthread, reference, other
  double matmul_gflops = 0;  // fp32, measured
  int matmul_size = 0;
  int threads = 0, cores = 0;
  std::string cpu_capability;
  bool cpu_has_avx512 = false;
  double free_disk_gb = 0;
  std::vector<std::string> failures;  // non-empty = doctor exits 1
  std::vector<std::string> warnings;

  nlohmann::json to_json() const;
};

// Classifies a BLAS library path (exposed for tests).
std::string classify_blas(const std::string& path);

// Calls of f per second, f called once to warm up and then repeatedly for at
// least `min_seconds`.
double calls_per_second(const std::function<void()>& f, double min_seconds);

// Fp32 GFLOP/s of an n x n matmul (ATen), timed for at least `min_seconds`.
double measure_matmul_gflops(int n, double min_seconds);

DoctorReport run_doctor(const std::string& disk_path = ".", double min_gflops = 100.0);

}  // namespace smoes
