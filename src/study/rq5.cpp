// RQ5: dynamic against fixed routing, accuracy per FLOP. Fixed routers (top-k,
// hard modality, SMoES) are scored by `smoes eval`; dynamic routing (NAEE
// dynamic skipping, MoDES, top-p / adaptive-k) is `smoes skip` on a trained model at a target skip
// ratio, on the same examples. GFLOPs are those executed per token (prompt
// and generated), counted while the model runs (model/flops.h).
#include <algorithm>

#include "study/answer_kit.h"

namespace smoes::study {
using namespace kit;
namespace {

struct Row {
  std::string label;
  std::map<std::string, BySeed> accuracy;  // by task
  BySeed mean_accuracy, gflops, per_gflop;
};

void finish(Row& row, const std::vector<std::string>& tasks) {
  std::vector<BySeed> parts;
  for (const auto& t : tasks) parts.push_back(row.accuracy[t]);
  row.mean_accuracy = mean_of(parts);
  row.per_gflop = zip(row.mean_accuracy, row.gflops, [](double acc, double g) { return g > 0 ? acc / g : 0; });
}

Row fixed_row(Results& r, const std::string& label, const std::string& model, const std::vector<std::string>& tasks) {
  Row row{label, {}, {}, {}, {}};
  const Step eval{"eval", tasks};
  std::vector<BySeed> g;
  for (const auto& t : tasks) {
    row.accuracy[t] = collect(r, model, eval, metric_pointer(t));
    g.push_back(collect(r, model, eval, "/flops/" + t + "/gflops_per_token"));
  }
  row.gflops = mean_of(g);
  finish(row, tasks);
  return row;
}

Row dynamic_row(Results& r, const std::string& label, const std::string& model, const std::string& method,
                const Step& skip, const std::vector<std::string>& tasks) {
  Row row{method + " on " + label, {}, {}, {}, {}};
  for (int seed : r.seeds()) {
    const auto* runs = r.json(model, seed, skip, "/skip/runs");
    if (!runs || !runs->is_array()) continue;
    for (size_t i = 0; i < runs->size(); ++i) {
      if ((*runs)[i].value("method", "") != method) continue;
      const std::string at = "/skip/runs/" + std::to_string(i);
      for (const auto& t : tasks)
        if (auto v = r.value(model, seed, skip, at + "/metrics/" + t + "/" + headline_metric(t)))
          row.accuracy[t][seed] = *v;
      if (auto v = r.value(model, seed, skip, at + "/gflops_per_token")) row.gflops[seed] = *v;
    }
  }
  finish(row, tasks);
  return row;
}

}  // namespace

Answer answer_rq5(Results& r, const nlohmann::json& q) {
  Answer a("rq5", "RQ5: dynamic against fixed routing, accuracy per FLOP",
           "On VQA-CP-style (answer-prior shift) and A-OKVQA-style (needs knowledge) OOD VQA, at equal total "
           "parameters: accuracy and executed FLOPs of fixed top-k, hard-modality, SMoES and dynamic routing.");
  const auto tasks = q["tasks"].get<std::vector<std::string>>();
  const auto methods = q["methods"].get<std::vector<std::string>>();
  const Step skip{"skip", tasks, methods, q["ratio"].get<double>()};
  std::vector<Row> rows;
  for (const auto& [label, model] : roles(q, "fixed")) rows.push_back(fixed_row(r, label, model, tasks));
  for (const auto& [label, model] : roles(q, "dynamic_on"))
    for (const auto& m : methods) rows.push_back(dynamic_row(r, label, model, m, skip, tasks));

  // Pareto frontier on the seed means: no other row is at least as accurate for at most the FLOPs, one strictly.
  auto dominated = [&](const Row& x) {
    auto ex = estimate(x.mean_accuracy), gx = estimate(x.gflops);
    for (const auto& y : rows) {
      auto ey = estimate(y.mean_accuracy), gy = estimate(y.gflops);
      if (&x == &y || !ey.n || !gy.n) continue;
      if (ey.mean >= ex.mean && gy.mean <= gx.mean && (ey.mean > ex.mean || gy.mean < gx.mean)) return true;
    }
    return false;
  };
  Table t{"Accuracy and executed compute (skip ratio target " + format(q["ratio"].get<double>()) + " for dynamic rows)",
          {"routing"},
          {}};
  for (const auto& task : tasks) t.columns.push_back(task + " accuracy");
  for (const char* c : {"mean accuracy", "GFLOPs / token", "accuracy / GFLOP", "Pareto frontier"})
    t.columns.push_back(c);
  std::string data, plots;
  int k = 0;
  for (const auto& row : rows) {
    std::vector<std::string> cells = {row.label};
    for (const auto& task : tasks) cells.push_back(format(estimate(row.accuracy.at(task))));
    auto acc = estimate(row.mean_accuracy), g = estimate(row.gflops);
    cells.push_back(format(acc));
    cells.push_back(format(g));
    cells.push_back(format(estimate(row.per_gflop)));
    cells.push_back(acc.n && g.n ? (dominated(row) ? "no" : "yes") : "n/a");
    t.rows.push_back(cells);
    if (acc.n && g.n) {
      data +=
          "$p" + std::to_string(k) + " << EOD\n" + std::to_string(g.mean) + " " + std::to_string(acc.mean) + "\nEOD\n";
      plots += std::string(plots.empty() ? "plot " : ", ") + "$p" + std::to_string(k) + " using 1:2 with points pt " +
               std::to_string(5 + k % 9) + " ps 2 title \"" + row.label + "\"";
      ++k;
    }
  }
  a.tables.push_back(t);
  if (k)
    figure(r, a, "rq5_accuracy_gflops", "Mean accuracy over the OOD VQA tasks against executed GFLOPs per token", data,
           "set xlabel \"executed GFLOPs per token\"\nset ylabel \"mean accuracy\"\nset grid\n"
           "set key outside right\n" +
               plots + "\n");

  const std::string baseline = q["baseline"];
  const Row* base = nullptr;
  for (const auto& row : rows)
    if (row.label == baseline) base = &row;
  Table d{"Each routing minus " + baseline + " (paired by seed)", {"routing", "mean accuracy", "accuracy / GFLOP"}, {}};
  for (const auto& row : rows) {
    if (&row == base) continue;
    auto per = difference(row.per_gflop, base->per_gflop);
    d.rows.push_back({row.label, format(difference(row.mean_accuracy, base->mean_accuracy)), format(per)});
    a.verdicts.push_back(claim(row.label + " gives more accuracy per GFLOP than " + baseline, per));
    // The question's claim is dynamic against fixed routing: the first
    // dynamic row decides it, and its claim goes first (the headline).
    if (a.verdict.empty() && row.label.find(" on ") != std::string::npos) {
      a.verdict = verdict(per);
      std::rotate(a.verdicts.begin(), a.verdicts.end() - 1, a.verdicts.end());
    }
  }
  a.tables.push_back(d);
  a.notes.push_back(
      "Dynamic rows are `smoes skip` methods on a trained model (docs/skip.md): modes = MoDES, naee-skip = "
      "NAEE dynamic skipping, top-p = top-p / adaptive-k routing, each at the target skip ratio.");
  return a;
}

}  // namespace smoes::study
