#include "moe/gemm.h"

#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>

#include <algorithm>
#include <optional>
#include <vector>

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

// oneDNN 2.6's sgemm runs C = A W^T (W a row-major [n, k] weight, A a few
// rows) up to 2.2x slower on one thread, and up to 5.5x on two, than the same
// product computed transposed, C^T = W A^T, when A has 16-32 rows and W is
// large: the da and dx GEMMs of a small expert's backward (E = 64 at
// T = 512) and the LM head in batch-16 decoding. Outside that window the
// transposed form loses (2.4x slower at 4 rows, 1.3x at 8 on one thread).
// Measured by bench/bench_gemm.cpp; the table is in docs/PERFORMANCE.md.
bool faster_transposed(char ta, char tb, int64_t m, int64_t n, int64_t k) {
  return ta == 'N' && tb == 'T' && m >= 16 && m <= 32 && n * k >= (int64_t(1) << 17);
}

void check(dnnl_status_t status, int64_t m, int64_t n, int64_t k) {
  TORCH_CHECK(status == dnnl_success, "gemm: oneDNN sgemm failed with status ", int(status), " for m ", m, ", n ", n,
              ", k ", k);
}

// c = a w^T + beta c as (w a^T)^T: the product lands in a per-thread [n, m]
// buffer and is transposed into c (at most 32 x n floats, still in cache).
void sgemm_transposed(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* w, int64_t ldw,
                      float beta, float* c, int64_t ldc) {
  thread_local std::vector<float> scratch;
  scratch.resize(size_t(n * m));
  float* ct = scratch.data();
  check(dnnl_sgemm('N', 'T', n, m, k, 1.0f, w, ldw, a, lda, 0.0f, ct, m), m, n, k);
  for (int64_t i = 0; i < m; ++i) {
    float* row = c + i * ldc;
    if (beta == 0)  // not 0 * c: c may hold NaN from torch::empty
      for (int64_t j = 0; j < n; ++j) row[j] = ct[j * m + i];
    else
      for (int64_t j = 0; j < n; ++j) row[j] = ct[j * m + i] + beta * row[j];
  }
}

}  // namespace

void gemm(char ta, char tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb,
          float beta, float* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {  // oneDNN rejects k = 0: the product is empty, c = beta c
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == 0 ? 0.0f : beta * c[i * ldc + j];
    return;
  }
  if (faster_transposed(ta, tb, m, n, k)) return sgemm_transposed(m, n, k, a, lda, b, ldb, beta, c, ldc);
  check(dnnl_sgemm(ta, tb, m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc), m, n, k);
}

void gemm(char ta, char tb, int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, const double* b,
          int64_t ldb, double beta, double* c, int64_t ldc) {
  auto view = [](const double* p, int64_t rows, int64_t cols, int64_t ld, char trans) {
    auto* data = const_cast<double*>(p);  // from_blob wants non-const; only read
    return trans == 'N' ? torch::from_blob(data, {rows, cols}, {ld, 1}, torch::kDouble)
                        : torch::from_blob(data, {cols, rows}, {ld, 1}, torch::kDouble).t();
  };
  gemm(torch::from_blob(c, {m, n}, {ldc, 1}, torch::kDouble), view(a, m, k, lda, ta), view(b, k, n, ldb, tb), beta);
}

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
  auto oa = as_operand(a), ob = as_operand(b);
  if (!oa) return gemm(c, a.contiguous(), b, beta);
  if (!ob) return gemm(c, a, b.contiguous(), beta);
  gemm(oa->trans, ob->trans, c.size(0), c.size(1), a.size(1), a.data_ptr<float>(), oa->ld, b.data_ptr<float>(), ob->ld,
       float(beta), c.data_ptr<float>(), std::max<int64_t>({c.stride(0), c.size(1), 1}));
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
