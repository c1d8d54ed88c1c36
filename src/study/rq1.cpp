// RQ1: does LM pretraining's routing survive attaching vision? A text-only
// MoE LM, then three ways of attaching vision: experts and routers frozen,
// full fine-tuning, SMoES fine-tuning. Scored on captioning and grounding;
// routing persistence is the Spearman correlation, per seed, between the
// pretrained LM's per-expert share of text tokens (every layer and expert, on
// the text task) and the same share after attaching vision.
#include "study/answer_kit.h"

namespace smoes::study {
using namespace kit;
namespace {

// Each (layer, expert)'s share of its layer's routed text slots.
std::optional<std::vector<double>> text_shares(Results& r, const std::string& model, int seed, const Step& step) {
  const auto* layers = r.json(model, seed, step, "/routing/layers");
  if (!layers || !layers->is_array()) return std::nullopt;
  std::vector<double> out;
  for (size_t l = 0; l < layers->size(); ++l) {
    std::vector<double> load;
    double total = 0;
    for (size_t e = 0; e < (*layers)[l]["text_load"].size(); ++e) {
      auto v = r.value(model, seed, step, "/routing/layers/" + std::to_string(l) + "/text_load/" + std::to_string(e));
      if (!v) return std::nullopt;
      load.push_back(*v);
      total += *v;
    }
    for (double x : load) out.push_back(total > 0 ? x / total : 0);
  }
  return out;
}

}  // namespace

Answer answer_rq1(Results& r, const nlohmann::json& q) {
  Answer a(
      "rq1", "RQ1: transfer from LM pretraining",
      "Pretrain a text-only MoE LM, attach the vision encoder and projector, and train without retraining the "
      "experts and routers, against full fine-tuning and SMoES fine-tuning. Do its routing specialisations persist?");
  const auto cap = q["caption_task"].get<std::string>(), gnd = q["grounding_task"].get<std::string>();
  const Step eval{"eval", {cap, gnd}}, routing{"routing", {q["text_task"].get<std::string>()}};
  const std::string pretrained = q["pretrained"];
  const std::vector<std::pair<std::string, std::string>> methods = {
      {"experts + routers frozen", q["frozen"]}, {"full fine-tuning", q["full"]}, {"SMoES fine-tuning", q["smoes"]}};

  Table t{"Scores and routing persistence (mean over seeds [95% bootstrap CI])",
          {"method", "BLEU-4", "CIDEr-D", "Acc@0.5", "routing persistence (Spearman rho)"},
          {}};
  std::map<std::string, BySeed> cider, acc, rho;
  for (const auto& [label, model] : methods) {
    auto bleu = collect(r, model, eval, "/metrics/" + cap + "/BLEU-4");
    cider[label] = collect(r, model, eval, metric_pointer(cap));
    acc[label] = collect(r, model, eval, metric_pointer(gnd));
    for (int s : r.seeds()) {
      auto before = text_shares(r, pretrained, s, routing), after = text_shares(r, model, s, routing);
      if (before && after)
        if (auto c = spearman(*before, *after)) rho[label][s] = *c;
    }
    t.rows.push_back({label, format(estimate(bleu)), format(estimate(cider[label])), format(estimate(acc[label])),
                      format(estimate(rho[label]))});
  }
  a.tables.push_back(t);

  const auto& frozen = methods[0].first;
  const auto& full = methods[1].first;
  const auto& smoes = methods[2].first;
  a.verdict = verdict(estimate(rho[full]));
  a.verdicts = {
      claim("Pretraining routing persists under full fine-tuning (rho > 0)", estimate(rho[full])),
      claim("Pretraining routing persists under SMoES fine-tuning (rho > 0)", estimate(rho[smoes])),
      claim("With experts and routers frozen it persists (rho > 0)", estimate(rho[frozen])),
      claim("SMoES beats full fine-tuning on CIDEr-D", difference(cider[smoes], cider[full])),
      claim("SMoES beats full fine-tuning on Acc@0.5", difference(acc[smoes], acc[full])),
      claim("Full fine-tuning beats frozen experts on CIDEr-D", difference(cider[full], cider[frozen])),
  };
  Table d{"Differences (paired by seed)", {"comparison", "CIDEr-D", "Acc@0.5"}, {}};
  d.rows.push_back(
      {"SMoES - full", format(difference(cider[smoes], cider[full])), format(difference(acc[smoes], acc[full]))});
  d.rows.push_back(
      {"full - frozen", format(difference(cider[full], cider[frozen])), format(difference(acc[full], acc[frozen]))});
  a.tables.push_back(d);
  a.notes.push_back(
      "Routing persistence: for each seed, the Spearman rank correlation between the pretrained LM's "
      "share of text slots per (layer, expert) and the fine-tuned model's, both measured on the text "
      "task; 1 = the same experts take the text, 0 = unrelated.");
  learning_curves(r, a, "rq1_learning_curves", {{"LM pretraining", pretrained}, methods[0], methods[1], methods[2]});
  return a;
}

}  // namespace smoes::study
