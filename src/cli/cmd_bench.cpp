// smoes bench: performance measurements with their same-run baselines.
//   smoes bench moe    MoE layer vs dense-equivalent FFN vs per-expert loop
//   smoes bench train  training throughput vs the measured matmul rate
//   smoes bench decode prefill and KV-cached greedy decode tokens/s
#include <array>
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "core/config.h"
#include "model/decode_bench.h"
#include "moe/bench.h"
#include "train/throughput.h"

namespace smoes::cli {

Command add_bench(CLI::App& app) {
  auto* bench = app.add_subcommand("bench", "Measure performance against same-run baselines");
  bench->require_subcommand(1);
  auto json_out = std::make_shared<bool>(false);
  auto repeats = std::make_shared<int>(7);
  auto* moe = bench->add_subcommand("moe", "MoE layer fwd+bwd vs dense SwiGLU of equal active FLOPs and a per-expert loop");
  moe->add_flag("--json", *json_out, "print results as JSON");
  moe->add_option("--repeats", *repeats, "timed repeats per variant (median is reported)")->check(at_least(1))->capture_default_str();
  auto only = std::make_shared<std::array<int64_t, 3>>(std::array<int64_t, 3>{0, 0, 0});  // T, E, k; 0 = all
  moe->add_option("--tokens", (*only)[0], "only cases with this many tokens (T)")->check(at_least(1));
  moe->add_option("--experts", (*only)[1], "only cases with this many experts (E)")->check(at_least(1));
  moe->add_option("--top-k", (*only)[2], "only cases with this top-k")->check(at_least(1));

  auto* train = bench->add_subcommand("train", "training throughput (tokens/s, GFLOP/s vs matmul rate)");
  auto config_path = std::make_shared<std::string>();
  auto overrides = std::make_shared<std::vector<std::string>>();
  auto batch = std::make_shared<int>(8), seq = std::make_shared<int>(128);
  train->add_flag("--json", *json_out, "print results as JSON");
  train->add_option("--config", *config_path, "model config JSON (default: built-in defaults)");
  train->add_option("--set", *overrides, "override a config field, e.g. model.d_model=512");
  train->add_option("--batch", *batch, "sequences per step")->check(at_least(1))->capture_default_str();
  train->add_option("--seq-len", *seq, "tokens per sequence (incl. visual tokens)")->check(at_least(1))->capture_default_str();

  auto* decode = bench->add_subcommand(
      "decode", "prefill and KV-cached greedy decode tokens/s (threads: the global --threads, before 'bench')");
  auto decode_config = std::make_shared<std::string>();
  auto decode_overrides = std::make_shared<std::vector<std::string>>();
  auto batches = std::make_shared<std::vector<int64_t>>(std::vector<int64_t>{1, 16});
  auto prompt_len = std::make_shared<int64_t>(48), new_tokens = std::make_shared<int64_t>(32);
  auto decode_repeats = std::make_shared<int>(5);
  decode->add_flag("--json", *json_out, "print results as JSON");
  decode->add_option("--config", *decode_config, "model config JSON (default: built-in defaults)");
  decode->add_option("--set", *decode_overrides, "override a config field, e.g. model.d_model=512");
  decode->add_option("--batch", *batches, "prompts per batch; repeat the option for several")
      ->check(at_least(1))->capture_default_str();
  decode->add_option("--prompt-len", *prompt_len, "prompt tokens incl. the image's visual tokens")
      ->check(at_least(1))->capture_default_str();
  decode->add_option("--new-tokens", *new_tokens, "greedy tokens generated per prompt")->check(at_least(2))->capture_default_str();
  decode->add_option("--repeats", *decode_repeats, "timed repeats (median is reported)")->check(at_least(1))->capture_default_str();
  auto profile_prefix = std::make_shared<std::string>();
  decode->add_option("--profile", *profile_prefix,
                     "also profile one generation per batch size: Chrome trace of every ATen call in "
                     "<PREFIX>_batch<B>.json");

  return {bench, [=] {
            if (moe->parsed()) {
              nlohmann::json all = nlohmann::json::array();
              for (const auto& c : moe::default_moe_cases()) {
                const auto& [t, e, k] = *only;
                if ((t && c.tokens != t) || (e && c.experts != e) || (k && c.top_k != k)) continue;
                auto r = moe::bench_moe_case(c, *repeats);
                all.push_back(r.to_json());
                if (!*json_out)
                  std::printf("T=%-5lld E=%-3lld k=%lld  moe %8.2f ms  dense %8.2f ms  loop %8.2f ms  "
                              "ratio_vs_dense %.3f  ratio_vs_loop %.3f  gemm_ratio %.3f  cached_gemm_ratio %.3f\n",
                              (long long)c.tokens, (long long)c.experts, (long long)c.top_k, r.moe_ms, r.dense_ms,
                              r.loop_ms, r.ratio_vs_dense(), r.ratio_vs_loop(), r.gemm_ratio(), r.cached_gemm_ratio());
              }
              if (*json_out) std::cout << all.dump(2) << "\n";
            } else if (train->parsed()) {
              Config cfg = Config::load(*config_path, *overrides);
              auto r = train::measure_train_throughput(cfg, 2048, *batch, *seq, 5);
              if (*json_out)
                std::cout << r.to_json().dump(2) << "\n";
              else
                std::printf(
                    "tokens/s %.0f  achieved %.1f GFLOP/s  matmul %.1f GFLOP/s  fraction %.3f  "
                    "gemm %.1f GFLOP/s  fraction %.3f\n",
                    r.tokens_per_s, r.achieved_gflops, r.matmul_gflops, r.fraction_of_matmul(), r.gemm_gflops,
                    r.fraction_of_gemm());
            } else if (decode->parsed()) {
              Config cfg = Config::load(*decode_config, *decode_overrides);
              nlohmann::json all = nlohmann::json::array();
              for (int64_t b : *batches) {
                const auto trace = profile_prefix->empty() ? std::string() : *profile_prefix + "_batch" + std::to_string(b) + ".json";
                auto r = model::bench_decode(cfg, 2048, b, *prompt_len, *new_tokens, *decode_repeats, trace);
                all.push_back(r.to_json());
                if (!*json_out)
                  std::printf("batch %-3lld prompt %lld new %lld threads %d  prefill %.0f tok/s (%.1f ms)  "
                              "decode %.0f tok/s (%.1f ms)\n",
                              (long long)b, (long long)r.prompt_tokens, (long long)r.new_tokens, r.threads,
                              r.prefill_tokens_per_s, r.prefill_ms, r.decode_tokens_per_s, r.decode_ms);
              }
              if (*json_out) std::cout << all.dump(2) << "\n";
            }
          }};
}

}  // namespace smoes::cli
