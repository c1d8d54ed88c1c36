// smoes doctor: checks BLAS, the MoE/FFN GEMM library, threads, CPU kernels, matmul rate and disk.
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "core/doctor.h"
#include "core/error.h"
#include "moe/gemm_backend.h"

namespace smoes::cli {

Command add_doctor(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "doctor", "Check the machine: LibTorch, BLAS, GEMM library, matmul GFLOP/s, threads, AVX-512, disk");
  auto json_out = std::make_shared<bool>(false);
  auto min_gflops = std::make_shared<double>(100.0);
  sub->add_flag("--json", *json_out, "print the report as JSON");
  sub->add_option("--min-gflops", *min_gflops, "warn below this fp32 matmul rate")->check(at_least(0))->capture_default_str();
  return {sub, [=] {
            DoctorReport r = run_doctor(".", *min_gflops);
            const auto gemm = moe::gemm_backend();
            if (r.cpu_has_avx512 && gemm.isa.find("avx512") == std::string::npos)
              r.warnings.push_back("CPU has AVX-512 but oneDNN dispatches to " + gemm.isa +
                                   " (is ONEDNN_MAX_CPU_ISA set?): MoE and FFN GEMMs run slower");
            if (*json_out) {
              auto report = r.to_json();
              report["gemm"] = {{"library", gemm.library}, {"isa", gemm.isa}};
              std::cout << report.dump(2) << "\n";
            } else {
              std::printf("LibTorch        %s\n", r.torch_version.c_str());
              std::printf("BLAS            %s (%s)\n", r.blas_kind.c_str(), r.blas_path.c_str());
              std::printf("matmul fp32     %.1f GFLOP/s (%dx%d)\n", r.matmul_gflops, r.matmul_size, r.matmul_size);
              std::printf("MoE/FFN GEMM    %s (%s)\n", gemm.library.c_str(), gemm.isa.c_str());
              std::printf("threads         %d of %d cores\n", r.threads, r.cores);
              std::printf("CPU kernels     %s (CPU has AVX-512: %s)\n", r.cpu_capability.c_str(),
                          r.cpu_has_avx512 ? "yes" : "no");
              std::printf("free disk       %.1f GB\n", r.free_disk_gb);
              for (const auto& w : r.warnings) std::printf("warning: %s\n", w.c_str());
              for (const auto& f : r.failures) std::printf("FAIL: %s\n", f.c_str());
              if (r.failures.empty()) std::printf("ok\n");
            }
            if (!r.failures.empty()) throw Error("doctor found " + std::to_string(r.failures.size()) + " problem(s)");
          }};
}

}  // namespace smoes::cli
