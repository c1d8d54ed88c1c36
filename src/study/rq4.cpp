// RQ4: E in {4, 8, 16, 32} experts at equal active parameters (and rows at
// equal total), trained on COCO-style captions, scored on COCO-style (ID) and
// Conceptual-Captions-style (OOD) captions. Degradation = CIDEr-D(ID) -
// CIDEr-D(OOD), per seed.
#include <algorithm>

#include "study/answer_kit.h"

namespace smoes::study {
using namespace kit;

Answer answer_rq4(Results& r, const nlohmann::json& q) {
  Answer a("rq4", "RQ4: number of experts against cross-domain degradation",
           "Trained on COCO-style captions and evaluated on Conceptual-Captions-style captions from another "
           "visual and textual domain: how does the degradation change with the number of experts E?");
  const auto id = q["id_task"].get<std::string>(), ood = q["ood_task"].get<std::string>();
  const Step eval{"eval", {id, ood}};
  Table t{
      "Captioning in and out of domain",
      {"E", "parameters held equal", "CIDEr-D ID (" + id + ")", "CIDEr-D OOD (" + ood + ")", "degradation (ID - OOD)"},
      {}};
  struct Point {
    int experts;
    BySeed degradation;
  };
  std::vector<Point> active;
  std::string data;
  for (const char* group : {"equal_active", "equal_total"}) {
    auto rows = roles(q, group);
    std::sort(rows.begin(), rows.end(), [](auto& x, auto& y) { return std::stoi(x.first) < std::stoi(y.first); });
    for (const auto& [e, model] : rows) {
      auto in = collect(r, model, eval, metric_pointer(id)), out = collect(r, model, eval, metric_pointer(ood));
      auto deg = zip(in, out, [](double x, double y) { return x - y; });
      t.rows.push_back({e, std::string(group) == "equal_active" ? "active" : "total", format(estimate(in)),
                        format(estimate(out)), format(estimate(deg))});
      if (std::string(group) == "equal_active") {
        active.push_back({std::stoi(e), deg});
        auto est = estimate(deg);
        if (est.n)
          data +=
              e + " " + std::to_string(est.mean) + " " + std::to_string(est.lo) + " " + std::to_string(est.hi) + "\n";
      }
    }
  }
  a.tables.push_back(t);
  if (!data.empty())
    figure(r, a, "rq4_degradation",
           "CIDEr-D degradation (ID - OOD) against E at equal active parameters, mean "
           "over seeds with the 95% CI",
           "$d << EOD\n" + data + "EOD\n",
           "set logscale x 2\nset xlabel \"experts E\"\nset ylabel \"CIDEr-D ID - OOD\"\nset grid\nset xrange [3:40]\n"
           "plot $d using 1:2:3:4 with yerrorlines lw 2 pt 7 title \"equal active parameters\"\n");
  if (active.size() >= 2) {
    const auto& few = active.front();
    const auto& many = active.back();
    auto e = difference(few.degradation, many.degradation);
    a.verdict = verdict(e);
    a.verdicts.push_back(claim("More experts degrade less: degradation(E=" + std::to_string(few.experts) +
                                   ") - degradation(E=" + std::to_string(many.experts) + ")",
                               e));
    for (size_t i = 1; i + 1 < active.size(); ++i)
      a.verdicts.push_back(claim("degradation(E=" + std::to_string(few.experts) +
                                     ") - degradation(E=" + std::to_string(active[i].experts) + ")",
                                 difference(few.degradation, active[i].degradation)));
  } else {
    a.verdict = "underpowered";
    a.notes.push_back("fewer than two expert counts have results");
  }
  return a;
}

}  // namespace smoes::study
