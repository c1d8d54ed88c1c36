#include "eval/evaluate.h"

#include <spdlog/spdlog.h>

#include <cmath>
#include <filesystem>
#include <map>

#include "core/error.h"
#include "core/files.h"
#include "eval/accuracy.h"
#include "eval/caption_metrics.h"
#include "eval/grounding.h"
#include "eval/results.h"
#include "eval/vqa.h"

namespace smoes::eval {

using tasks::Kind;
using nlohmann::json;

std::vector<std::string> example_keys(const std::vector<data::Example>& examples) {
  std::map<std::string, int> seen;
  std::vector<std::string> keys;
  for (const auto& ex : examples) {
    int n = seen[ex.id]++;
    keys.push_back(n == 0 ? ex.id : ex.id + "#" + std::to_string(n));
  }
  return keys;
}

namespace {

Box to_box(const std::vector<double>& b) { return b.size() == 4 ? Box{b[0], b[1], b[2], b[3]} : Box{}; }

std::map<std::string, std::string> answers(const std::vector<std::string>& keys, const std::vector<Prediction>& p) {
  std::map<std::string, std::string> out;
  for (size_t i = 0; i < keys.size(); ++i) out[keys[i]] = p[i].text;
  return out;
}

std::string gold_choice(const data::Example& ex) {
  if (ex.answer_index < 0 || ex.answer_index >= int(ex.choices.size()))
    throw Error(ex.task + " example " + ex.id + ": no gold answer to score against (unlabelled split?)");
  return ex.choices[ex.answer_index];
}

json score_choice(const tasks::Task& task, const std::vector<data::Example>& examples,
                  const std::vector<std::string>& keys, const std::vector<Prediction>& p) {
  std::map<std::string, std::string> gold;
  for (size_t i = 0; i < examples.size(); ++i) gold[keys[i]] = gold_choice(examples[i]);
  if (task.name == "nlvr2") return nlvr2_metrics(gold, answers(keys, p));
  if (task.name == "snli_ve") return snli_ve_metrics(gold, answers(keys, p));
  if (task.name == "aokvqa") {
    std::map<std::string, AokvqaQuestion> q;
    for (size_t i = 0; i < examples.size(); ++i)
      q[keys[i]] = {examples[i].choices, examples[i].answer_index, examples[i].targets, false};
    return aokvqa_mc_metrics(q, answers(keys, p));
  }
  return exact_match_metrics(gold, answers(keys, p));  // VCR Q->A, QA->R
}

json score_vqa(const tasks::Task& task, const std::vector<data::Example>& examples,
               const std::vector<std::string>& keys, const std::vector<Prediction>& p) {
  if (task.name == "aokvqa_da") {
    std::map<std::string, AokvqaQuestion> q;
    for (size_t i = 0; i < examples.size(); ++i) {
      auto hard = examples[i].meta.find("difficult_direct_answer");
      q[keys[i]] = {examples[i].choices, examples[i].answer_index, examples[i].targets,
                    hard != examples[i].meta.end() && hard->second == "true"};
    }
    return aokvqa_da_metrics(q, answers(keys, p));
  }
  std::map<std::string, VqaQuestion> q;
  for (size_t i = 0; i < examples.size(); ++i) {
    const auto& m = examples[i].meta;
    auto get = [&](const char* k) { return m.count(k) ? m.at(k) : std::string(); };
    q[keys[i]] = {examples[i].targets, get("question_type"), get("answer_type")};
  }
  return vqa_metrics(q, answers(keys, p));
}

json perplexity(const std::vector<Prediction>& p) {
  double nll = 0;
  int64_t tokens = 0;
  for (const auto& x : p) {
    nll += x.nll;
    tokens += x.tokens;
  }
  if (tokens == 0) throw Error("perplexity: no tokens scored");
  return {{"perplexity", std::exp(nll / double(tokens))}, {"nll_per_token", nll / double(tokens)},
          {"tokens", tokens}, {"count", p.size()}};
}

using VcrRuns = std::map<std::string, std::pair<std::vector<data::Example>, std::vector<Prediction>>>;

// Q->AR needs both halves of an annot_id: the Q->A pick and the QA->R pick.
json vcr_joint(const VcrRuns& runs) {
  const auto& [qa_ex, qa_pred] = runs.at("vcr_qa");
  const auto& [qar_ex, qar_pred] = runs.at("vcr_qar");
  std::map<std::string, std::pair<int, int>> rationale;  // id -> (gold, predicted)
  for (size_t i = 0; i < qar_ex.size(); ++i) rationale[qar_ex[i].id] = {qar_ex[i].answer_index, qar_pred[i].choice};
  std::map<std::string, VcrGold> gold;
  std::map<std::string, VcrPrediction> pred;
  for (size_t i = 0; i < qa_ex.size(); ++i) {
    auto r = rationale.find(qa_ex[i].id);
    if (r == rationale.end()) continue;
    gold[qa_ex[i].id] = {qa_ex[i].answer_index, r->second.first};
    pred[qa_ex[i].id] = {qa_pred[i].choice, r->second.second};
  }
  return vcr_metrics(gold, pred);
}

void require_scorer(const tasks::Task& task) {
  if (task.kind == Kind::kDetection)
    throw Error(task.name + ": a training task (it teaches the encoder objects and boxes); it has no scorer yet");
}

}  // namespace

json score(const tasks::Task& task, const std::vector<data::Example>& examples, const std::vector<Prediction>& p) {
  if (examples.size() != p.size()) throw Error(task.name + ": " + std::to_string(p.size()) + " predictions for " +
                                               std::to_string(examples.size()) + " examples");
  auto keys = example_keys(examples);
  switch (task.kind) {
    case Kind::kCaption: {
      std::map<std::string, std::vector<std::string>> refs;
      for (size_t i = 0; i < examples.size(); ++i) refs[keys[i]] = examples[i].targets;
      return caption_metrics(refs, answers(keys, p));
    }
    case Kind::kVqa: return score_vqa(task, examples, keys, p);
    case Kind::kExact: {
      std::map<std::string, std::string> gold;
      for (size_t i = 0; i < examples.size(); ++i)
        gold[keys[i]] = examples[i].targets.empty() ? "" : examples[i].targets.front();
      return exact_match_metrics(gold, answers(keys, p));
    }
    case Kind::kGrounding: {
      std::map<std::string, Box> gold, pred;
      for (size_t i = 0; i < examples.size(); ++i) {
        gold[keys[i]] = to_box(examples[i].box);
        pred[keys[i]] = to_box(p[i].box);
      }
      return grounding_metrics(gold, pred);
    }
    case Kind::kChoice: return score_choice(task, examples, keys, p);
    case Kind::kText: return perplexity(p);
    case Kind::kDetection: require_scorer(task);
  }
  throw Error(task.name + ": unknown task kind");
}

json results_json(const tasks::Task& task, const std::vector<data::Example>& examples,
                  const std::vector<Prediction>& p) {
  auto keys = example_keys(examples);
  json out = json::array();
  switch (task.kind) {
    case Kind::kCaption:
      for (size_t i = 0; i < keys.size(); ++i) out.push_back({{"image_id", keys[i]}, {"caption", p[i].text}});
      return out;
    case Kind::kVqa:
      for (size_t i = 0; i < keys.size(); ++i) out.push_back({{"question_id", keys[i]}, {"answer", p[i].text}});
      return out;
    case Kind::kGrounding:
      for (size_t i = 0; i < keys.size(); ++i)
        out.push_back({{"ref_id", keys[i]}, {"bbox", p[i].box.size() == 4 ? p[i].box : std::vector<double>{0, 0, 0, 0}}});
      return out;
    case Kind::kText:
      throw Error(task.name + ": text perplexity has no results file");
    default:
      out = json::object();
      for (size_t i = 0; i < keys.size(); ++i) out[keys[i]] = p[i].text;
      return out;
  }
}

std::vector<Prediction> read_results(const tasks::Task& task, const std::vector<data::Example>& examples,
                                     const std::string& path) {
  auto keys = example_keys(examples);
  IdSet known(keys.begin(), keys.end());
  std::vector<Prediction> out(examples.size());
  if (task.kind == Kind::kGrounding) {
    auto boxes = read_box_results(path, &known);
    for (size_t i = 0; i < keys.size(); ++i)
      if (auto it = boxes.find(keys[i]); it != boxes.end()) out[i].box = {it->second.x, it->second.y, it->second.w, it->second.h};
    return out;
  }
  if (task.kind == Kind::kText) throw Error(task.name + ": text perplexity has no results file");
  auto texts = task.kind == Kind::kCaption ? read_caption_results(path, &known) : read_answer_results(path, &known);
  for (size_t i = 0; i < keys.size(); ++i)
    if (auto it = texts.find(keys[i]); it != texts.end()) out[i].text = it->second;
  return out;
}

json evaluate_tasks(model::MoEVLM& model, const data::Tokenizer& tok, data::ImageCache& cache, const std::string& root,
                    const std::vector<std::string>& task_names, const EvalOptions& o, json* flops) {
  json all = json::object();
  VcrRuns vcr;
  for (const auto& name : task_names) {
    const auto& task = tasks::find_task(name);
    require_scorer(task);  // before the predictions, not after
    auto examples = tasks::load_with_images(task, root, o.split, /*strict=*/true, nullptr);
    if (o.limit > 0 && int(examples.size()) > o.limit) examples.resize(size_t(o.limit));
    model::ExecutedFlops meter;
    std::vector<Prediction> predictions;
    {
      model::CountFlops counting(*model, flops ? &meter : nullptr);
      predictions = predict(model, tok, cache, task, examples, o.predict);
    }
    if (flops) (*flops)[name] = meter.to_json();
    all[name] = score(task, examples, predictions);
    spdlog::info("eval {} ({} {} examples): {}", name, examples.size(), o.split, all[name].dump());
    if (!o.results_dir.empty() && task.kind != Kind::kText)
      write_file_atomic((std::filesystem::path(o.results_dir) / (name + "_results.json")).string(),
                        results_json(task, examples, predictions).dump() + "\n");
    if (name == "vcr_qa" || name == "vcr_qar") vcr[name] = {std::move(examples), std::move(predictions)};
  }
  if (vcr.size() == 2) all["vcr"] = vcr_joint(vcr);
  return all;
}

}  // namespace smoes::eval
