#include "moe/gemm.h"

#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>

#include <algorithm>
#include <optional>

#include "moe/gemm_backend.h"

namespace smoes::moe {
namespace {

// A row-major operand as oneDNN sees it: transposed or not, and its leading dimension.
struct Operand {
  char trans;
  int64_t ld;
};

// Unit stride along one dimension and a leading dimension that really steps
// over it (not an expanded, stride-0 view); a dimension of size 1 has no
// meaningful stride. Anything else: nullopt, and the caller copies.
std::optional<Operand> as_operand(const torch::Tensor& t) {
  const int64_t rows = t.size(0), cols = t.size(1);
  if ((cols <= 1 || t.stride(1) == 1) && (rows <= 1 || t.stride(0) >= std::max<int64_t>(cols, 1)))
    return Operand{'N', std::max<int64_t>({t.stride(0), cols, 1})};
  if ((rows <= 1 || t.stride(0) == 1) && (cols <= 1 || t.stride(1) >= std::max<int64_t>(rows, 1)))
    return Operand{'T', std::max<int64_t>({t.stride(1), rows, 1})};
  return std::nullopt;
}

void onednn_gemm(const torch::Tensor& c, const torch::Tensor& a, const torch::Tensor& b, double beta) {
  auto oa = as_operand(a), ob = as_operand(b);
  if (!oa) return onednn_gemm(c, a.contiguous(), b, beta);
  if (!ob) return onednn_gemm(c, a, b.contiguous(), beta);
  const int64_t m = c.size(0), n = c.size(1), k = a.size(1);
  const auto status = dnnl_sgemm(oa->trans, ob->trans, m, n, k, 1.0f, a.data_ptr<float>(), oa->ld, b.data_ptr<float>(),
                                 ob->ld, float(beta), c.data_ptr<float>(), std::max<int64_t>({c.stride(0), n, 1}));
  TORCH_CHECK(status == dnnl_success, "gemm: oneDNN sgemm failed with status ", int(status), " for ", a.sizes(), " x ",
              b.sizes());
}

}  // namespace

void gemm(const torch::Tensor& c, const torch::Tensor& a, const torch::Tensor& b, double beta) {
  TORCH_CHECK(a.dim() == 2 && b.dim() == 2 && c.dim() == 2 && a.size(1) == b.size(0) && c.size(0) == a.size(0) &&
                  c.size(1) == b.size(1),
              "gemm: ", c.sizes(), " = ", a.sizes(), " x ", b.sizes());
  TORCH_CHECK((c.stride(1) == 1 || c.size(1) <= 1) && (c.size(0) <= 1 || c.stride(0) >= c.size(1)),
              "gemm: the output needs unit column stride and non-overlapping rows, got strides ", c.strides());
  const bool onednn = c.scalar_type() == torch::kFloat && a.scalar_type() == torch::kFloat &&
                      b.scalar_type() == torch::kFloat && c.device().is_cpu();
  if (!onednn) {
    torch::Tensor out = c;  // ATen's out= takes a non-const handle
    if (beta == 0)
      at::mm_out(out, a, b);
    else
      out.addmm_(a, b, beta, 1);
    return;
  }
  if (c.numel() == 0) return;
  if (a.size(1) == 0) {  // oneDNN rejects k = 0: the product is empty, c = beta c
    beta == 0 ? c.zero_() : c.mul_(beta);
    return;
  }
  onednn_gemm(c, a, b, beta);
}

torch::Tensor gemm(const torch::Tensor& a, const torch::Tensor& b) {
  auto c = torch::empty({a.size(0), b.size(1)}, a.options().requires_grad(false));
  gemm(c, a, b);
  return c;
}

bool accumulates_in_place(const torch::Tensor& w) {
  const auto& g = w.grad();
  return w.is_leaf() && g.defined() && !g.requires_grad() && g.is_contiguous() && g.sizes() == w.sizes() &&
         g.scalar_type() == w.scalar_type();
}

torch::Tensor weight_gradient(const torch::Tensor& w, const torch::Tensor& a, const torch::Tensor& b, bool fuse) {
  if (!fuse || !accumulates_in_place(w)) return gemm(a, b);
  gemm(w.grad(), a, b, /*beta=*/1);
  return {};
}

GemmBackend gemm_backend() {
  const dnnl_version_t* v = dnnl_version();
  return {"oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch),
          dnnl_cpu_isa2str(dnnl_get_effective_cpu_isa())};
}

}  // namespace smoes::moe
