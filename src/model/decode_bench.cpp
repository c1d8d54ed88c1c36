#include "model/decode_bench.h"

#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <sstream>
#include <vector>

#include "core/error.h"
#include "core/files.h"
#include "model/generate.h"
#include "model/vlm.h"

namespace smoes::model {

nlohmann::json DecodeBenchResult::to_json() const {
  return {{"batch", batch},
          {"prompt_tokens", prompt_tokens},
          {"new_tokens", new_tokens},
          {"generated_tokens", generated_tokens},
          {"threads", threads},
          {"prefill_ms", prefill_ms},
          {"generate_ms", generate_ms},
          {"decode_ms", decode_ms},
          {"prefill_tokens_per_s", prefill_tokens_per_s},
          {"decode_tokens_per_s", decode_tokens_per_s}};
}

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

DecodeBenchResult bench_decode(const Config& cfg, int64_t vocab, int64_t batch, int64_t prompt_tokens,
                               int64_t new_tokens, int repeats, const std::string& profile_path) {
  if (new_tokens < 2) throw Error("bench decode: new tokens must be >= 2 (the first one comes from the prefill)");
  if (repeats < 1) throw Error("bench decode: repeats must be >= 1");
  if (prompt_tokens + new_tokens > cfg.model.max_seq_len)
    throw Error("bench decode: prompt " + std::to_string(prompt_tokens) + " + new tokens " +
                std::to_string(new_tokens) + " exceed model.max_seq_len = " + std::to_string(cfg.model.max_seq_len));
  torch::manual_seed(cfg.train.seed);
  const int64_t image_token = 3, no_eos = -1;  // -1 is never generated: every row runs every step
  MoEVLM m(cfg, vocab, image_token);
  m->eval();
  const int64_t p = m->image_tokens();
  if (prompt_tokens <= p)
    throw Error("bench decode: the prompt must exceed the " + std::to_string(p) + " visual tokens");
  auto ids = torch::randint(4, vocab, {batch, prompt_tokens});
  ids.narrow(1, 0, p).fill_(image_token);
  const VLMInput prompt{ids, ids.eq(image_token).to(torch::kLong), torch::ones({batch, prompt_tokens}, torch::kBool),
                        torch::randn({batch, 3, cfg.model.image_size, cfg.model.image_size}), {}};

  auto seconds = [](auto&& f) {
    auto start = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  DecodeBenchResult r;
  r.batch = batch, r.prompt_tokens = prompt_tokens, r.new_tokens = new_tokens;
  r.threads = at::get_num_threads();
  greedy_generate(m, prompt, int(new_tokens), no_eos);  // warm-up: allocator, threads, GEMM kernels
  std::vector<double> prefill, generate, decode;
  for (int i = 0; i < repeats; ++i) {
    prefill.push_back(seconds([&] { greedy_generate(m, prompt, 1, no_eos); }));
    generate.push_back(seconds([&] {
      r.generated_tokens = 0;
      for (const auto& row : greedy_generate(m, prompt, int(new_tokens), no_eos)) r.generated_tokens += row.size();
    }));
    decode.push_back(generate.back() - prefill.back());
  }
  if (!profile_path.empty()) {
    std::ostringstream trace;
    {
      torch::autograd::profiler::RecordProfile profile(trace);
      greedy_generate(m, prompt, int(new_tokens), no_eos);
    }
    write_file_atomic(profile_path, trace.str());
  }
  r.prefill_ms = 1e3 * median(prefill);
  r.generate_ms = 1e3 * median(generate);
  r.decode_ms = 1e3 * median(decode);
  r.prefill_tokens_per_s = double(batch * prompt_tokens) / median(prefill);
  r.decode_tokens_per_s = double(batch * (new_tokens - 1)) / median(decode);
  return r;
}

}  // namespace smoes::model
