// The evidence for moe::gemm's orientation rule (moe/gemm.cpp,
// faster_transposed): oneDNN's sgemm on C = A W^T with A a few rows and W a
// row-major [n, k] weight, computed as given and as the transposed product
// C^T = W A^T followed by a transpose into C, alternately in the same run.
// Counter transposed_ratio < 1: the transposed form is faster. Arguments:
// rows m, n, k, threads. Shapes: the quick model's attention and LM head at
// batch 8-32 decoding, and the da / dx GEMMs of an E = 64 expert (16 rows).
// BM_StreamBandwidth: the machine's memory bandwidth.
#include <benchmark/benchmark.h>
#include <oneapi/dnnl/dnnl.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void BM_SmallRowsTimesTransposedWeight(benchmark::State& state) {
  const int64_t m = state.range(0), n = state.range(1), k = state.range(2);
  const int previous = omp_get_max_threads();
  omp_set_num_threads(int(state.range(3)));
  std::vector<float> a(m * k, 0.5f), w(n * k, 0.01f), c(m * n), ct(n * m);
  auto as_given = [&] { dnnl_sgemm('N', 'T', m, n, k, 1, a.data(), k, w.data(), k, 0, c.data(), n); };
  auto transposed = [&] {
    dnnl_sgemm('N', 'T', n, m, k, 1, w.data(), k, a.data(), k, 0, ct.data(), m);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) c[i * n + j] = ct[j * m + i];
  };
  auto us = [](auto&& f) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 20; ++i) f();
    return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / 20;
  };
  std::vector<double> given_us, transposed_us, ratio;
  for (auto _ : state) {
    us(as_given), us(transposed);  // warm-up: JIT kernels, caches
    for (int r = 0; r < 31; ++r) {
      given_us.push_back(us(as_given));
      transposed_us.push_back(us(transposed));
      ratio.push_back(transposed_us.back() / given_us.back());
    }
  }
  omp_set_num_threads(previous);
  state.counters["as_given_us"] = median(given_us);
  state.counters["transposed_us"] = median(transposed_us);
  state.counters["transposed_ratio"] = median(ratio);
}
BENCHMARK(BM_SmallRowsTimesTransposedWeight)
    ->ArgsProduct({{4, 8, 16, 24, 32, 64}, {576}, {192}, {1, 2}})
    ->ArgsProduct({{4, 8, 16, 24, 32, 64}, {4096}, {192}, {1, 2}})
    ->ArgsProduct({{8, 16, 24, 32, 48}, {256}, {1024}, {1, 2}})
    ->ArgsProduct({{8, 16, 24, 32, 48}, {512}, {256}, {1, 2}})
    ->ArgsProduct({{16}, {192, 384}, {192}, {1, 2}})
    ->ArgNames({"m", "n", "k", "threads"})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

// Memory bandwidth, for what fine-grained experts cost (docs/PERFORMANCE.md:
// E = 64 streams its experts' weights and gradients through memory):
// b[i] = 1.0001 a[i] over two 100 MB arrays, split over `threads` threads.
// Counter gb_per_s counts bytes read plus bytes written.
void BM_StreamBandwidth(benchmark::State& state) {
  const int64_t n = int64_t(100) << 18;  // 100 MB of floats
  const int threads = int(state.range(0));
  std::vector<float> a(n, 1.0f), b(n);
  auto pass = [&] {
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        for (int64_t i = n * t / threads; i < n * (t + 1) / threads; ++i) b[i] = 1.0001f * a[i];
      });
    for (auto& th : pool) th.join();
  };
  pass();  // fault the pages in
  std::vector<double> seconds;
  for (auto _ : state)
    for (int r = 0; r < 11; ++r) {
      const auto start = std::chrono::steady_clock::now();
      pass();
      seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
  state.counters["gb_per_s"] = 2.0 * double(n) * sizeof(float) / median(seconds) / 1e9;
}
BENCHMARK(BM_StreamBandwidth)->Arg(1)->Arg(2)->ArgName("threads")->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
