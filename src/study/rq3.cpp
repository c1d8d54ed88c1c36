// RQ3: trained on GQA- and NLVR2-style data, scored zero-shot on VCR- and
// SNLI-VE-style data. Per method: in-distribution (ID) accuracy (mean over
// the ID tasks), out-of-distribution (OOD) accuracy, OOD - ID, and the
// per-layer MSI on ID against OOD inputs.
#include "study/answer_kit.h"

namespace smoes::study {
using namespace kit;
namespace {

BySeed mean_accuracy(Results& r, const std::string& model, const Step& eval, const std::vector<std::string>& tasks) {
  std::vector<BySeed> parts;
  for (const auto& t : tasks) parts.push_back(collect(r, model, eval, metric_pointer(t)));
  return mean_of(parts);
}

}  // namespace

Answer answer_rq3(Results& r, const nlohmann::json& q) {
  Answer a("rq3", "RQ3: layer-dependent specialisation out of distribution",
           "Trained on GQA- and NLVR2-style tasks, evaluated zero-shot on VCR- and SNLI-VE-style tasks: how "
           "much accuracy does each method lose out of distribution, and how does per-layer MSI change?");
  auto id = q["id_tasks"].get<std::vector<std::string>>(), ood = q["ood_tasks"].get<std::vector<std::string>>();
  auto all = id;
  all.insert(all.end(), ood.begin(), ood.end());
  const Step eval{"eval", all}, route_id{"routing", id}, route_ood{"routing", ood};
  const std::string baseline = q["baseline"];
  auto methods = roles(q, "methods");

  Table t{"Accuracy in and out of distribution", {"method"}, {}};
  for (const auto& task : all) t.columns.push_back(task + " (" + headline_metric(task) + ")");
  for (const char* c : {"ID mean", "OOD mean", "OOD - ID", "MSI on ID", "MSI on OOD"}) t.columns.push_back(c);
  std::map<std::string, BySeed> drop;
  std::string data, plots;
  int k = 0;
  const int layers = r.grid().runs.front().config["model"]["n_layers"].get<int>();
  for (const auto& [label, model] : methods) {
    std::vector<std::string> row = {label};
    for (const auto& task : all) row.push_back(format(estimate(collect(r, model, eval, metric_pointer(task)))));
    auto id_acc = mean_accuracy(r, model, eval, id), ood_acc = mean_accuracy(r, model, eval, ood);
    drop[label] = zip(ood_acc, id_acc, [](double o, double i) { return o - i; });
    row.push_back(format(estimate(id_acc)));
    row.push_back(format(estimate(ood_acc)));
    row.push_back(format(estimate(drop[label])));
    row.push_back(format(estimate(collect(r, model, route_id, "/routing/msi"))));
    row.push_back(format(estimate(collect(r, model, route_ood, "/routing/msi"))));
    t.rows.push_back(row);
    for (const auto& [step, which] : {std::pair{route_id, "ID"}, std::pair{route_ood, "OOD"}}) {
      std::string block;
      for (int l = 0; l < layers; ++l) {
        auto e = estimate(collect(r, model, step, "/routing/msi_per_layer/" + std::to_string(l)));
        if (e.n) block += std::to_string(l) + " " + std::to_string(e.mean) + "\n";
      }
      if (block.empty()) continue;
      data += "$m" + std::to_string(k) + " << EOD\n" + block + "EOD\n";
      plots += std::string(plots.empty() ? "plot " : ", ") + "$m" + std::to_string(k) +
               " using 1:2 with linespoints lw 2 " + (std::string(which) == "OOD" ? "dt 2 " : "") + "title \"" + label +
               ", " + which + "\"";
      ++k;
    }
  }
  a.tables.push_back(t);
  if (k)
    figure(
        r, a, "rq3_msi_per_layer", "MSI per layer on ID (solid) and OOD (dashed) inputs, mean over seeds", data,
        "set xlabel \"layer\"\nset ylabel \"MSI\"\nset yrange [0:1]\nset xtics 1\nset grid\nset key outside right\n" +
            plots + "\n");

  Table d{"OOD - ID of each method minus that of " + baseline + " (paired by seed; > 0 = loses less)",
          {"method", "difference"},
          {}};
  for (const auto& [label, model] : methods) {
    if (label == baseline) continue;
    auto e = difference(drop[label], drop[baseline]);
    d.rows.push_back({label, format(e)});
    a.verdicts.push_back(claim(label + " loses less accuracy out of distribution than " + baseline, e));
    if (a.verdict.empty()) a.verdict = verdict(e);
  }
  a.tables.push_back(d);
  a.notes.push_back(
      "ID and OOD means average the tasks' headline metrics with equal weight; the OOD tasks have more "
      "answer choices (VCR 4, SNLI-VE 3), so part of OOD - ID is chance level, the same for every method.");
  return a;
}

}  // namespace smoes::study
