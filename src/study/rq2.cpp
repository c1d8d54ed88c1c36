// RQ2: does SMoES's specialisation learned on one VL task transfer to
// another (captioning -> grounding and back) while keeping its gain over a
// standard MoE of the same total and active size? Gains are SMoES minus
// standard on the same seed; profile similarity compares each expert's
// normalised text fraction C~ (METHOD.md section 3) before the transfer (on
// the source task) and after it (on the target task).
#include <cmath>

#include "study/answer_kit.h"

namespace smoes::study {
using namespace kit;
namespace {

using Profile = std::vector<std::vector<std::optional<double>>>;  // [layer][expert] C~

std::optional<Profile> profile(Results& r, const std::string& model, int seed, const Step& step) {
  const auto* tf = r.json(model, seed, step, "/routing/text_fraction");
  if (!tf || !tf->is_array()) return std::nullopt;
  Profile p(tf->size());
  for (size_t l = 0; l < tf->size(); ++l)
    for (size_t e = 0; e < (*tf)[l].size(); ++e)
      p[l].push_back(
          r.value(model, seed, step, "/routing/text_fraction/" + std::to_string(l) + "/" + std::to_string(e)));
  return p;
}

// Spearman over the (layer, expert) pairs used on both sides (layer < 0: all
// layers), and the share of them on the same side of 1/2.
std::pair<std::optional<double>, std::optional<double>> similarity(const Profile& a, const Profile& b, int layer) {
  std::vector<double> x, y;
  double agree = 0;
  for (size_t l = 0; l < a.size() && l < b.size(); ++l) {
    if (layer >= 0 && int(l) != layer) continue;
    for (size_t e = 0; e < a[l].size() && e < b[l].size(); ++e)
      if (a[l][e] && b[l][e]) {
        x.push_back(*a[l][e]);
        y.push_back(*b[l][e]);
        agree += (*a[l][e] > 0.5) == (*b[l][e] > 0.5);
      }
  }
  if (x.empty()) return {std::nullopt, std::nullopt};
  return {spearman(x, y), agree / x.size()};
}

void heatmap(Results& r, Answer& a, const std::string& name, const std::string& title, const Profile& p) {
  if (p.empty() || p.front().empty()) return;
  std::string data = "$m << EOD\n";
  for (const auto& layer : p) {
    for (const auto& v : layer) data += (v ? std::to_string(*v) : std::string("NaN")) + " ";
    data += "\n";
  }
  data += "EOD\n";
  figure(r, a, name, title, data,
         "set xlabel \"expert\"\nset ylabel \"MoE layer\"\nset cbrange [0:1]\n"
         "set cblabel \"normalised text fraction (1 = text only; blank = unused)\"\n"
         "set xrange [-0.5:" +
             std::to_string(p.front().size()) + "-0.5]\nset yrange [-0.5:" + std::to_string(p.size()) +
             "-0.5]\nset xtics 1\nset ytics 1\n"
             "set palette defined (0 \"#2166ac\", 0.5 \"#f7f7f7\", 1 \"#b2182b\")\nset title \"" +
             title +
             "\" noenhanced\n"
             "plot $m matrix with image notitle\n");
}

}  // namespace

Answer answer_rq2(Results& r, const nlohmann::json& q) {
  Answer a(
      "rq2", "RQ2: transfer across vision-language tasks",
      "Do SMoES specialisation patterns learned on captioning transfer to grounding (and back) while keeping its gain "
      "over a standard MoE at equal total and active parameters?");
  const auto cap = q["caption_task"].get<std::string>(), gnd = q["grounding_task"].get<std::string>();
  struct Leg {
    const char *role, *label;
    std::string task;
  };
  const std::vector<Leg> legs = {{"caption", "trained on captioning", cap},
                                 {"caption_to_grounding", "captioning -> grounding", gnd},
                                 {"grounding", "trained on grounding", gnd},
                                 {"grounding_to_caption", "grounding -> captioning", cap}};
  auto model = [&](const char* family, const char* role) { return q[family][role].get<std::string>(); };

  Table t{"Scores, and SMoES's gain over the standard MoE (paired by seed)",
          {"model", "task (metric)", "standard MoE", "SMoES", "gain"},
          {}};
  std::map<std::string, Estimate> gain;
  for (const auto& leg : legs) {
    Step eval{"eval", {leg.task}};
    auto std_v = collect(r, model("standard", leg.role), eval, metric_pointer(leg.task));
    auto smo_v = collect(r, model("smoes", leg.role), eval, metric_pointer(leg.task));
    gain[leg.role] = difference(smo_v, std_v);
    t.rows.push_back({leg.label, leg.task + " (" + headline_metric(leg.task) + ")", format(estimate(std_v)),
                      format(estimate(smo_v)), format(gain[leg.role])});
  }
  a.tables.push_back(t);
  auto retained = [&](const char* src, const char* dst) {
    const bool measured = gain[src].n > 0 && gain[dst].n > 0;  // a missing leg has no gain, not a zero one
    return measured && std::abs(gain[src].mean) > 0 ? format(gain[dst].mean / gain[src].mean) : std::string("n/a");
  };
  a.tables.push_back({"Gain retained after the transfer (mean gain after / mean gain before)",
                      {"direction", "retained"},
                      {{"captioning -> grounding", retained("grounding", "caption_to_grounding")},
                       {"grounding -> captioning", retained("caption", "grounding_to_caption")}}});

  // Profiles: source model on its task against the transferred model on the new task.
  Table s{"Expert-modality profile before vs after the transfer (Spearman rho of C~; bin agreement)",
          {"family", "direction", "rho", "bin agreement"},
          {}};
  const int layers = r.grid().runs.front().config["model"]["n_layers"].get<int>();
  Table per_layer{"Per-layer rho of the profiles, captioning -> grounding (mean over seeds)", {"layer"}, {}};
  std::vector<std::vector<std::string>> layer_rows(layers);
  for (int l = 0; l < layers; ++l) layer_rows[l].push_back(std::to_string(l));
  for (const char* family : {"standard", "smoes"}) {
    per_layer.columns.push_back(std::string(family) == "smoes" ? "SMoES" : "standard MoE");
    for (auto [from, to, label] : {std::tuple{"caption", "caption_to_grounding", "captioning -> grounding"},
                                   std::tuple{"grounding", "grounding_to_caption", "grounding -> captioning"}}) {
      const std::string from_task = std::string(from) == "caption" ? cap : gnd;
      const std::string to_task = from_task == cap ? gnd : cap;
      BySeed rho, agree;
      std::vector<BySeed> rho_layer(layers);
      for (int seed : r.seeds()) {
        auto p0 = profile(r, model(family, from), seed, {"routing", {from_task}});
        auto p1 = profile(r, model(family, to), seed, {"routing", {to_task}});
        if (!p0 || !p1) continue;
        auto [c, g] = similarity(*p0, *p1, -1);
        if (c) rho[seed] = *c;
        if (g) agree[seed] = *g;
        for (int l = 0; l < layers; ++l)
          if (auto cl = similarity(*p0, *p1, l).first) rho_layer[l][seed] = *cl;
        if (seed == r.seeds().front() && std::string(family) == "smoes" && std::string(from) == "caption") {
          heatmap(r, a, "rq2_smoes_profile_caption", "SMoES trained on captioning, on " + cap, *p0);
          heatmap(r, a, "rq2_smoes_profile_transferred", "SMoES after captioning -> grounding, on " + gnd, *p1);
        }
      }
      s.rows.push_back({std::string(family) == "smoes" ? "SMoES" : "standard MoE", label, format(estimate(rho)),
                        format(estimate(agree))});
      if (std::string(from) == "caption")
        for (int l = 0; l < layers; ++l) layer_rows[l].push_back(format(estimate(rho_layer[l])));
    }
  }
  per_layer.rows = layer_rows;
  a.tables.push_back(s);
  a.tables.push_back(per_layer);

  a.verdict = verdict(gain["caption_to_grounding"]);
  a.verdicts = {
      claim("SMoES keeps a gain over standard MoE after captioning -> grounding", gain["caption_to_grounding"]),
      claim("SMoES keeps a gain over standard MoE after grounding -> captioning", gain["grounding_to_caption"]),
      claim("SMoES gains over standard MoE when trained on captioning", gain["caption"]),
      claim("SMoES gains over standard MoE when trained on grounding", gain["grounding"]),
  };
  a.notes.push_back(
      "C~ is each expert's normalised text fraction; bin agreement is the share of (layer, expert) "
      "pairs on the same side of 1/2 before and after the transfer.");
  learning_curves(r, a, "rq2_learning_curves",
                  {{"standard, captioning", model("standard", "caption")},
                   {"SMoES, captioning", model("smoes", "caption")},
                   {"standard, cap -> grounding", model("standard", "caption_to_grounding")},
                   {"SMoES, cap -> grounding", model("smoes", "caption_to_grounding")}});
  return a;
}

}  // namespace smoes::study
