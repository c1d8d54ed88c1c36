#include "skip/run.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <optional>

#include "core/error.h"
#include "core/files.h"
#include "eval/evaluate.h"
#include "eval/predict.h"
#include "core/checkpoint.h"
#include "skip/methods.h"
#include "skip/prune.h"
#include "skip/rules.h"
#include "tasks/batch.h"

namespace smoes::skip {

namespace fs = std::filesystem;

namespace {

// NAEE pruning's r for a target share of experts removed (or --keep), checked.
int prune_keep(SkipSubject& s, const SkipOptions& o, double ratio) {
  const int e = s.model->cfg.moe.num_experts, k = s.model->cfg.moe.top_k;
  const int keep = o.keep > 0 ? o.keep : int(std::lround(e * (1.0 - ratio)));
  if (keep >= e)
    throw Error("naee-prune: keeping r = " + std::to_string(keep) + " of E = " + std::to_string(e) +
                " experts prunes nothing: r must be below E (--keep, or a larger --ratio)");
  if (keep < k)
    throw Error("naee-prune: r = " + std::to_string(keep) + " is below moe.top_k = " + std::to_string(k) +
                ": each token routes to top_k distinct experts (--keep, or a smaller --ratio)");
  if (!s.model->cfg.moe.layer_experts.empty()) throw Error("naee-prune: the checkpoint is already pruned");
  return keep;
}

void check_options(SkipSubject& s, const SkipOptions& o) {
  if (moe_layers(*s.model).empty())
    throw Error("skip: " + s.checkpoint + " has no MoE layer (moe.enabled is false): nothing to skip");
  for (const auto& m : o.methods)
    if (std::find(skip_methods().begin(), skip_methods().end(), m) == skip_methods().end()) {
      std::string known;
      for (const auto& k : skip_methods()) known += (known.empty() ? "" : ", ") + k;
      throw Error("skip: unknown --method '" + m + "' (known: " + known + ")");
    }
  for (double r : o.ratios)
    if (!(r >= 0 && r < 1)) throw Error("skip: --ratio " + std::to_string(r) + " outside [0, 1)");
  if (o.candidates < 2) throw Error("skip: --candidates must be at least 2");
  if (o.search_samples < 1) throw Error("skip: --search-samples must be at least 1");
  if (o.timing_batches < 1 || o.batch_size < 1) throw Error("skip: --timing-batches and --batch must be at least 1");
  if (std::find(o.methods.begin(), o.methods.end(), "naee-prune") != o.methods.end())
    for (double r : o.ratios) prune_keep(s, o, r);  // refuse a bad r before any calibration
}

// A calibration with only the model's shape, for methods that read nothing else.
Calibration bare_calibration(model::MoEVLMImpl& model) {
  Calibration c;
  c.top_k = model.cfg.moe.top_k;
  c.layers.resize(moe_layers(model).size());
  return c;
}

// Top-k changed for one scope (the top1 baseline).
class TopK {
 public:
  TopK(model::MoEVLMImpl& model, int k) : model_(model), old_(model.cfg.moe.top_k), changed_(k > 0 && k != old_) {
    if (changed_) set(k);
  }
  ~TopK() {
    if (changed_) set(old_);  // back to a value the model had: cannot be refused
  }

 private:
  void set(int k) { apply_inference_overrides(model_, {"moe.top_k=" + std::to_string(k)}); }
  model::MoEVLMImpl& model_;
  int old_;
  bool changed_;
};

double moe_seconds(model::MoEVLMImpl& model) {
  double t = 0;
  for (auto* layer : moe_layers(model)) t += layer->forward_seconds;
  return t;
}

struct Timing {
  double prefill = 0, decode = 0, moe_prefill = 0;
};

// Prefill of a left-padded prompt batch, then 8 greedy decode steps; wall
// time of each phase and of the MoE layers during prefill.
Timing time_batch(model::MoEVLMImpl& model, const model::VLMInput& prompts) {
  using clock = std::chrono::steady_clock;
  torch::NoGradGuard no_grad;
  Timing t;
  model::KVCache kv;
  const double moe_before = moe_seconds(model);
  auto start = clock::now();
  auto last = model.forward(prompts, &kv).logits;  // [B, V]: prompts carry logits_at (their last column)
  t.prefill = std::chrono::duration<double>(clock::now() - start).count();
  t.moe_prefill = moe_seconds(model) - moe_before;
  start = clock::now();
  for (int step = 0; step < 8; ++step) {
    auto next = last.argmax(-1).unsqueeze(1);
    last = model.forward({next, torch::zeros_like(next), torch::ones(next.sizes(), torch::kBool), {}, {}}, &kv)
               .logits.select(1, -1);
  }
  t.decode = std::chrono::duration<double>(clock::now() - start).count();
  return t;
}

std::vector<model::VLMInput> timing_prompts(SkipSubject& s, const std::string& task_name, const SkipOptions& o) {
  const auto& task = tasks::find_task(task_name);
  auto examples = tasks::load_with_images(task, s.root, o.split, /*strict=*/true, nullptr);
  std::vector<model::VLMInput> out;
  for (int b = 0; b < o.timing_batches; ++b) {
    std::vector<tasks::Sequence> seqs;
    for (int i = 0; i < o.batch_size && !examples.empty(); ++i) {
      const auto& ex = examples[size_t(b * o.batch_size + i) % examples.size()];
      seqs.push_back(eval::prompt_sequence(*s.tok, *s.cache, ex, int(s.model->image_tokens()),
                                           s.model->cfg.data.max_text_len, s.model->cfg.data.image_position));
    }
    auto input = tasks::collate(seqs, s.model->cfg.model.image_size, s.tok->pad_id(), /*left_pad=*/true).input;
    input.logits_at = torch::zeros(input.input_ids.sizes(), torch::kBool);
    input.logits_at.select(1, -1).fill_(true);  // generation projects only the last prompt position
    out.push_back(std::move(input));
  }
  return out;
}

// A plan in force on a model for one scope.
class Applied {
 public:
  Applied(model::MoEVLMImpl& model, const Plan& plan, std::shared_ptr<SkipCounts> counts)
      : top_k_(model, plan.top_k) {
    if (!plan.rules.empty()) rules_.emplace(model, plan.rules, std::move(counts));
  }

 private:
  TopK top_k_;
  std::optional<InstallRules> rules_;
};

// Median over batches of the baseline/skipped time ratio, the two timed
// alternately so that machine noise hits both alike. `fast` is `base` itself
// (skipping) or another model (pruned).
nlohmann::json speedups(model::MoEVLM& base_model, model::MoEVLM& fast_model, const std::vector<model::VLMInput>& prompts,
                        const Plan& plan) {
  std::vector<double> prefill, decode, moe;
  time_batch(*base_model, prompts.front());  // warm-up
  time_batch(*fast_model, prompts.front());
  for (const auto& p : prompts) {
    auto base = time_batch(*base_model, p);
    Applied applied(*fast_model, plan, nullptr);
    auto fast = time_batch(*fast_model, p);
    prefill.push_back(base.prefill / fast.prefill);
    decode.push_back(base.decode / fast.decode);
    moe.push_back(base.moe_prefill / fast.moe_prefill);
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  return {{"prefill", median(prefill)}, {"decode", median(decode)}, {"moe_prefill", median(moe)},
          {"batches", prompts.size()}, {"batch_size", prompts.front().input_ids.size(0)}};
}

struct Scored {
  nlohmann::json metrics, flops;
  double gflops_per_token = 0;
};

Scored score(SkipSubject& s, model::MoEVLM& model, const std::vector<std::string>& tasks, const SkipOptions& o) {
  eval::EvalOptions eo;
  eo.split = o.split;
  eo.limit = o.limit;
  eo.predict.batch_size = o.batch_size;
  eo.predict.max_text_len = model->cfg.data.max_text_len;
  Scored out;
  out.metrics = eval::evaluate_tasks(model, *s.tok, *s.cache, s.root, tasks, eo, &out.flops);
  double gflops = 0, tokens = 0;
  for (const auto& [task, f] : out.flops.items()) {
    gflops += f["gflops"].get<double>();
    tokens += f["tokens"].get<double>();
  }
  out.gflops_per_token = tokens > 0 ? gflops / tokens : 0;
  return out;
}

// Prunes to r experts per MoE layer, writes the pruned run beside the
// calibration (RUN/pruned_r<r>/: checkpoint + tokenizer) and scores it.
nlohmann::json run_prune(SkipSubject& s, const SkipOptions& o, const std::vector<tasks::Batch>& batches, int keep,
                         double ratio, const std::vector<std::string>& tasks,
                         const std::vector<model::VLMInput>& prompts) {
  PruneOptions po;
  po.keep = keep;
  auto chosen = choose_experts(*s.model, batches, po);
  auto pruned = pruned_model(*s.model, chosen);
  const auto dir = fs::path(s.run_dir) / ("pruned_r" + std::to_string(keep));
  auto meta = read_checkpoint_meta(s.checkpoint);
  auto cfg = pruned->cfg;
  cfg.train.out_dir = dir.string();
  meta.config = cfg.to_json();
  meta.extra = {{"pruned_from", s.checkpoint}, {"naee_prune", prune_json(chosen)}};
  const auto ckpt = CheckpointDir((dir / "checkpoints").string(), 1).save(*pruned, nullptr, meta);
  if (fs::exists(fs::path(s.run_dir) / "tokenizer.model"))
    fs::copy_file(fs::path(s.run_dir) / "tokenizer.model", dir / "tokenizer.model", fs::copy_options::overwrite_existing);
  auto scored = score(s, pruned, tasks, o);
  const double e = s.model->cfg.moe.num_experts;
  return {{"method", "naee-prune"}, {"target_ratio", ratio}, {"keep", keep}, {"experts_pruned", 1.0 - keep / e},
          {"checkpoint", ckpt}, {"params", {{"layers", prune_json(chosen)}}},
          {"skip_ratio", {{"all", 0.0}, {"text", 0.0}, {"vision", 0.0}}}, {"metrics", scored.metrics},
          {"flops", scored.flops}, {"gflops_per_token", scored.gflops_per_token},
          {"speedup", speedups(s.model, pruned, prompts, Plan{})}};
}

}  // namespace

std::string calibration_path(const std::string& run_dir, const CalibrationOptions& o, const std::string& fingerprint) {
  return (fs::path(run_dir) / "calibration" /
          (o.task + "_" + o.split + "_n" + std::to_string(o.samples) + "_s" + std::to_string(o.seed) + "_" +
           fingerprint + ".json"))
      .string();
}

nlohmann::json run_skip(SkipSubject& s, const SkipOptions& o) {
  check_options(s, o);
  auto tasks = o.tasks;
  if (tasks.empty()) throw Error("skip: give at least one --task to score");
  auto copt = o.calibration;
  if (copt.task.empty()) copt.task = tasks.front();
  s.model->eval();
  const bool calibrated = std::any_of(o.methods.begin(), o.methods.end(), needs_calibration);
  const auto fingerprint = checkpoint_fingerprint(s.checkpoint);
  auto path = o.calibration_file.empty() ? calibration_path(s.run_dir, copt, fingerprint) : o.calibration_file;
  Calibration cal = bare_calibration(*s.model);
  std::vector<tasks::Batch> batches;
  std::vector<torch::Tensor> reference;
  const bool modes = std::find(o.methods.begin(), o.methods.end(), "modes") != o.methods.end();
  if (calibrated) {
    if (fs::exists(path) || !o.calibration_file.empty()) {
      cal = load_calibration(path, fingerprint);
      spdlog::info("skip: calibration from {}", path);
    }
    // MoDES searches on the batches unless every ratio's answer is remembered.
    bool need_batches = !fs::exists(path) && o.calibration_file.empty();
    for (double r : o.ratios) need_batches = need_batches || (modes && !modes_remembered(cal, r));
    if (need_batches) {
      if (!cal.task.empty()) copt = {cal.task, cal.split, cal.samples, copt.batch_size, copt.seed};
      batches = calibration_batches(*s.model, *s.tok, *s.cache, s.root, copt);
      reference = answer_log_probs(*s.model, batches);
    }
    if (!fs::exists(path) && o.calibration_file.empty()) {
      cal = calibrate(*s.model, batches, reference, copt);
      cal.fingerprint = fingerprint;
      cal.checkpoint = s.checkpoint;
    }
  }
  // The frontier's KL passes run on the first search_samples examples: one
  // pass per frontier pair and ratio, where alpha, beta and the quantiles use them all.
  const size_t search = std::min(batches.size(), size_t((o.search_samples + copt.batch_size - 1) / copt.batch_size));
  const std::vector<tasks::Batch> search_batches(batches.begin(), batches.begin() + int64_t(search));
  const std::vector<torch::Tensor> search_reference(reference.begin(), reference.begin() + int64_t(std::min(search, reference.size())));
  PlanInputs in{s.model.get(), search_batches.empty() ? nullptr : &search_batches,
                search_reference.empty() ? nullptr : &search_reference, o.candidates, o.seed};
  // Every plan before any result: a refused one (MoDES without vision tokens) writes nothing.
  std::vector<std::pair<std::string, double>> todo;
  std::vector<Plan> plans;
  std::vector<std::pair<int, double>> prunes;  // (r, ratio)
  for (const auto& m : o.methods)
    for (double r : m == "top1" ? std::vector<double>{0} : o.ratios) {
      if (m == "naee-prune") {
        prunes.emplace_back(prune_keep(s, o, r), r);
        continue;
      }
      plans.push_back(plan_method(m, m == "top1" ? 0.0 : r, cal, in));
      todo.emplace_back(m, r);
    }
  if (calibrated) {
    write_file_atomic(path, cal.to_json().dump() + "\n");
    spdlog::info("skip: calibration kept in {}", path);
  }
  auto prompts = timing_prompts(s, tasks.front(), o);
  auto base = score(s, s.model, tasks, o);
  nlohmann::json result{{"baseline", {{"metrics", base.metrics}, {"flops", base.flops},
                                      {"gflops_per_token", base.gflops_per_token}}},
                        {"calibration", calibrated ? nlohmann::json(path) : nlohmann::json(nullptr)},
                        {"runs", nlohmann::json::array()}};
  for (size_t i = 0; i < plans.size(); ++i) {
    const auto& plan = plans[i];
    auto counts = std::make_shared<SkipCounts>();
    Scored scored;
    {
      Applied applied(*s.model, plan, counts);
      scored = score(s, s.model, tasks, o);
    }
    const bool top1 = plan.top_k > 0;  // fewer slots routed, not skipped: the ratio is relative to top-k
    const double k = double(s.model->cfg.moe.top_k);
    auto ratio = [&](int m) { return top1 ? 1.0 - 1.0 / k : counts->ratio(m); };
    result["runs"].push_back({{"method", todo[i].first},
                              {"target_ratio", top1 ? 1.0 - 1.0 / k : todo[i].second},
                              {"expected_ratio", plan.expected_ratio},
                              {"params", plan.params},
                              {"skip_ratio", {{"all", ratio(-1)}, {"text", ratio(0)}, {"vision", ratio(1)}}},
                              {"metrics", scored.metrics},
                              {"flops", scored.flops},
                              {"gflops_per_token", scored.gflops_per_token},
                              {"speedup", speedups(s.model, s.model, prompts, plan)}});
    spdlog::info("skip: {} at {:.2f}: {}", todo[i].first, todo[i].second, result["runs"].back()["skip_ratio"].dump());
  }
  if (!prunes.empty() && batches.empty()) batches = calibration_batches(*s.model, *s.tok, *s.cache, s.root, copt);
  for (const auto& [keep, ratio] : prunes) result["runs"].push_back(run_prune(s, o, batches, keep, ratio, tasks, prompts));
  return result;
}

}  // namespace smoes::skip
