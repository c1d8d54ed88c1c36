// What moe::gemm runs float GEMMs on, for `smoes doctor` (no torch here).
#pragma once
#include <string>

namespace smoes::moe {

struct GemmBackend {
  std::string library;  // "oneDNN 2.6.3"
  std::string isa;      // the instruction set its kernels dispatch to, "cpu_isa_avx512_core_bf16"
};
GemmBackend gemm_backend();  // defined in gemm.cpp

}  // namespace smoes::moe
