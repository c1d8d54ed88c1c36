#include "moe/gemm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <regex>

#include "core/runtime.h"
#include "moe/gemm_backend.h"

using smoes::moe::gemm;

namespace {

// op(x) as the test passes it: a transposed view of a [cols, rows] tensor, or [rows, cols] itself.
torch::Tensor operand(int64_t rows, int64_t cols, bool transposed, torch::Dtype dtype) {
  return transposed ? torch::randn({cols, rows}, dtype).t() : torch::randn({rows, cols}, dtype);
}

}  // namespace

// Every transpose combination and beta, in float (oneDNN) and double (ATen),
// equals the double-precision ATen product.
TEST(Gemm, EqualsTheReferenceProductForEveryTransposeAndBeta) {
  torch::manual_seed(0);
  for (auto dtype : {torch::kFloat, torch::kDouble})
    for (bool ta : {false, true})
      for (bool tb : {false, true})
        for (double beta : {0.0, 1.0, 0.5}) {
          auto a = operand(37, 19, ta, dtype), b = operand(19, 23, tb, dtype);
          auto c = torch::randn({37, 23}, dtype);
          auto want = beta * c.to(torch::kDouble) + torch::mm(a.to(torch::kDouble), b.to(torch::kDouble));
          gemm(c, a, b, beta);
          EXPECT_TRUE(torch::allclose(c.to(torch::kDouble), want, 1e-4, 1e-4))
              << "dtype " << dtype << " ta " << ta << " tb " << tb << " beta " << beta;
        }
}

// A few rows times a large transposed weight, the shapes gemm computes as the
// transposed product (16-32 rows, n k >= 2^17), into a row slice of a wider
// tensor, with beta 0 (over NaN) and 1; and on either side of the window.
TEST(Gemm, SmallRowsTimesATransposedWeightEqualTheReference) {
  torch::manual_seed(3);
  for (int64_t m : {8, 16, 20, 32, 40})
    for (double beta : {0.0, 1.0}) {
      auto a = torch::randn({m, 300}).narrow(1, 10, 256);  // ld 300
      auto w = torch::randn({520, 256});                    // weight [n, k]
      auto out = torch::full({m, 530}, beta == 0 ? NAN : 0.5f);
      auto c = out.narrow(1, 4, 520);
      auto want = torch::mm(a.to(torch::kDouble), w.t().to(torch::kDouble));
      if (beta != 0) want += beta * c.to(torch::kDouble);
      gemm(c, a, w.t(), beta);
      EXPECT_TRUE(torch::allclose(c.to(torch::kDouble), want, 1e-4, 1e-4)) << "rows " << m << " beta " << beta;
      EXPECT_EQ(out.narrow(1, 0, 4).isnan().sum().item<int64_t>(), beta == 0 ? 4 * m : 0) << "columns outside c written";
    }
}

// Row slices of a wider tensor (leading dimension > columns) as inputs and as
// the output; a column-strided operand is copied, not misread; other rows untouched.
TEST(Gemm, WritesIntoSlicesAndReadsStridedOperands) {
  torch::manual_seed(1);
  auto wide = torch::randn({10, 40});
  auto a = wide.narrow(1, 3, 16).narrow(0, 2, 6);                       // [6, 16], ld 40
  auto b = torch::randn({16, 32}).narrow(1, 0, 31).slice(1, 0, 31, 2);  // [16, 16], column stride 2
  auto out = torch::zeros({8, 50});
  auto c = out.narrow(0, 1, 6).narrow(1, 5, 16);
  gemm(c, a, b);
  EXPECT_TRUE(torch::allclose(c, torch::mm(a, b), 1e-4, 1e-5));
  EXPECT_EQ(out.abs().sum().item<float>(), c.abs().sum().item<float>());
}

// Expanded (stride-0) operands are copied, not read as if their rows were distinct.
TEST(Gemm, ReadsExpandedOperands) {
  auto a = torch::randn({1, 6}).expand({5, 6}), b = torch::randn({6, 1}).expand({6, 4});
  auto c = torch::empty({5, 4});
  gemm(c, a, b);
  EXPECT_TRUE(torch::allclose(c, torch::mm(a.contiguous(), b.contiguous()), 1e-5, 1e-6));
  auto column = torch::randn({1, 1}).expand({5, 1}), row = torch::randn({1, 3});
  auto c1 = torch::empty({5, 3});
  gemm(c1, column, row);
  EXPECT_TRUE(torch::allclose(c1, torch::mm(column.contiguous(), row), 1e-5, 1e-6));
}

TEST(Gemm, EmptyInnerDimensionScalesTheOutput) {
  auto c = torch::ones({3, 4});
  gemm(c, torch::empty({3, 0}), torch::empty({0, 4}), 0.5);
  EXPECT_TRUE(torch::allclose(c, torch::full({3, 4}, 0.5)));
  gemm(c, torch::empty({3, 0}), torch::empty({0, 4}));
  EXPECT_EQ(c.abs().sum().item<float>(), 0.f);
}

TEST(Gemm, RejectsMismatchedShapes) {
  auto c = torch::empty({3, 4});
  EXPECT_THROW(gemm(c, torch::randn({3, 5}), torch::randn({6, 4})), c10::Error);
  auto cols = torch::empty({4, 3}).t();  // no unit column stride
  EXPECT_THROW(gemm(cols, torch::randn({3, 5}), torch::randn({5, 4})), c10::Error);
  auto overlapping = torch::empty({1, 4}).expand({3, 4});
  EXPECT_THROW(gemm(overlapping, torch::randn({3, 5}), torch::randn({5, 4})), c10::Error);
}

TEST(Gemm, FreshProduct) {
  auto a = torch::randn({5, 7}), b = torch::randn({7, 2});
  EXPECT_TRUE(torch::allclose(gemm(a, b), torch::mm(a, b), 1e-5, 1e-6));
}

// doctor's report: a real version, and AVX-512 kernels wherever ATen has them.
TEST(Gemm, BackendNamesOneDnnAndItsInstructionSet) {
  auto b = smoes::moe::gemm_backend();
  EXPECT_TRUE(std::regex_match(b.library, std::regex(R"(oneDNN \d+\.\d+\.\d+)"))) << b.library;
  EXPECT_EQ(b.isa.rfind("cpu_isa_", 0), 0u) << b.isa;
  if (smoes::cpu_has_avx512()) {
    EXPECT_NE(b.isa.find("avx512"), std::string::npos) << b.isa;
  }
}
