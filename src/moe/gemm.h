// The GEMM every MoE and FFN matmul goes through: C = op(A) op(B) + beta C on
// 2-d tensors, where a transposed operand is passed as a transposed view
// (w.t()), never copied.
//
// float runs on oneDNN's sgemm (libdnnl, the library LibTorch itself links),
// everything else on ATen. The six GEMMs of a SwiGLU fwd + bwd take ~9% less
// time than on ATen's OpenBLAS at an expert's shape on one thread and ~8% less
// at the dense FFN's on two (BM_SwiGLUGemms, docs/PERFORMANCE.md). Inside an
// OpenMP region it runs on the calling thread; outside, on all of them.
#pragma once
#include <torch/torch.h>

namespace smoes::moe {

// c [m, n] with unit column stride, written in place (a slice works); a [m, k]
// and b [k, n] with a unit stride in either dimension (contiguous or a
// transposed view; anything else is copied first). c must not overlap a or b.
void gemm(const torch::Tensor& c, const torch::Tensor& a, const torch::Tensor& b, double beta = 0);

// The same on raw row-major arrays, for loops of many small GEMMs (an
// expert's rows) that would otherwise make a tensor per operand: c [m, n] =
// op(a) [m, k] op(b) [k, n] + beta c, op = 'N' (as stored) or 'T' (stored
// transposed), ld* the stored row strides. float runs on oneDNN; double on ATen.
void gemm(char ta, char tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb,
          float beta, float* c, int64_t ldc);
void gemm(char ta, char tb, int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, const double* b,
          int64_t ldb, double beta, double* c, int64_t ldc);

// c = a b into a fresh tensor.
torch::Tensor gemm(const torch::Tensor& a, const torch::Tensor& b);

// Gradient-accumulation fusion (Megatron-Core's): a weight gradient added
// straight into .grad by the GEMM (beta = 1) instead of written fresh and then
// added by AccumulateGrad, which costs three more passes over the weights.
// True when w's .grad can take that: a plain, contiguous, same-shaped leaf
// gradient that is not itself part of a graph.
bool accumulates_in_place(const torch::Tensor& w);

// The gradient of w = a b: added into w.grad() when `fuse` and it can take it
// (then returns an undefined tensor, so autograd adds nothing), else fresh.
torch::Tensor weight_gradient(const torch::Tensor& w, const torch::Tensor& a, const torch::Tensor& b, bool fuse);

}  // namespace smoes::moe
