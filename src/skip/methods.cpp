#include "skip/methods.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "core/error.h"
#include "skip/frontier.h"
#include "skip/rules.h"

namespace smoes::skip {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::string ratio_key(double ratio) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", ratio);
  return buf;
}

std::vector<moe::SkipRule> threshold_rules(const Calibration& c, double tau_text, double tau_vision) {
  std::vector<moe::SkipRule> rules;
  for (const auto& l : c.layers) rules.push_back(threshold_rule(l.alpha, tau_text, tau_vision));
  return rules;
}

// Candidate thresholds of one modality: candidate i skips about i/D of its slots.
std::vector<double> candidates(const std::vector<double>& q, int d) {
  std::vector<double> out;
  for (int i = 0; i < d; ++i) out.push_back(q[size_t(std::llround(double(i) / d * Calibration::kQuantiles))]);
  out.push_back(kInf);
  return out;
}

Plan plan_modes(double ratio, Calibration& c, const PlanInputs& in) {
  if (c.slots[0] == 0 || c.slots[1] == 0)
    throw Error("skip: MoDES needs text and vision tokens in the calibration set, but " + c.task + " " + c.split +
                " routed " + std::to_string(c.slots[0]) + " text and " + std::to_string(c.slots[1]) +
                " vision slots (calibrate on a task with images)");
  nlohmann::json remembered = modes_remembered(c, ratio) ? c.searched["modes"][ratio_key(ratio)] : nlohmann::json();
  if (remembered.is_null()) {
    if (!in.batches || !in.reference) throw Error("skip: MoDES's threshold search needs the calibration batches");
    auto text = candidates(c.importance[0], in.candidates), vision = candidates(c.importance[1], in.candidates);
    const double nt = double(c.slots[0]), nv = double(c.slots[1]);
    auto share = [&](const std::vector<double>& q, const std::vector<double>& cand, int i) {
      return std::isinf(cand[size_t(i)]) ? 1.0 : share_below(q, cand[size_t(i)]);
    };
    auto ratio_of = [&](int i, int j) {
      return (nt * share(c.importance[0], text, i) + nv * share(c.importance[1], vision, j)) / (nt + nv);
    };
    auto loss = [&](int i, int j) {
      InstallRules installed(*in.model, threshold_rules(c, text[size_t(i)], vision[size_t(j)]), nullptr);
      return mean_kl(*in.model, *in.batches, *in.reference);
    };
    auto best = frontier_search(int(text.size()), int(vision.size()), ratio_of, loss, ratio);
    if (best.text < 0) throw Error("skip: no MoDES thresholds reach a skip ratio of " + ratio_key(ratio));
    remembered = {{"tau_text", text[size_t(best.text)]}, {"tau_vision", vision[size_t(best.vision)]},
                  {"ratio", best.ratio}, {"kl", best.loss}, {"kl_evaluations", best.loss_evaluations}};
    c.searched["modes"][ratio_key(ratio)] = remembered;  // only a finished search is remembered
  }
  auto tau = [](const nlohmann::json& v) { return v.is_number() ? v.get<double>() : kInf; };  // JSON has no infinity
  Plan p;
  p.rules = threshold_rules(c, tau(remembered["tau_text"]), tau(remembered["tau_vision"]));
  p.expected_ratio = remembered["ratio"].get<double>();
  p.params = remembered;
  return p;
}

Plan plan_blind(double ratio, const Calibration& c) {
  const double nt = double(c.slots[0]), nv = double(c.slots[1]);
  auto ratio_at = [&](double tau) {
    return (nt * share_below(c.importance[0], tau) + nv * share_below(c.importance[1], tau)) / std::max(1.0, nt + nv);
  };
  std::set<double> values(c.importance[0].begin(), c.importance[0].end());
  values.insert(c.importance[1].begin(), c.importance[1].end());
  values.insert(kInf);
  double tau = kInf;
  for (double v : values)
    if (ratio_at(v) >= ratio) {
      tau = v;
      break;
    }
  Plan p;
  p.rules = threshold_rules(c, tau, tau);
  p.expected_ratio = std::isinf(tau) ? 1.0 : ratio_at(tau);
  p.params = {{"tau", std::isinf(tau) ? nlohmann::json(nullptr) : nlohmann::json(tau)}};
  return p;
}

Plan plan_naee(double ratio, const Calibration& c) {
  if (c.top_k < 2) throw Error("skip: naee-skip needs top_k >= 2 (it skips the 2nd..k-th choices), the model has 1");
  const double later = double(c.top_k - 1) / c.top_k;  // share of slots that may go
  if (c.naee_relative.empty())
    throw Error("skip: naee-skip: the calibration has no second-choice weights (every layer's beta is 0)");
  double gamma = 1.0;
  if (ratio > 0) {
    const double q = std::min(1.0, ratio / later);
    gamma = q >= 1.0 ? kInf : c.naee_relative[size_t(std::llround(q * Calibration::kQuantiles))];
  }
  Plan p;
  for (const auto& l : c.layers)  // a layer whose beta is 0 skips nothing (and inf * 0 is no threshold)
    p.rules.push_back(naee_rule(l.beta > 0 ? gamma * l.beta : 0.0));
  p.expected_ratio = std::isinf(gamma) ? later : later * share_below(c.naee_relative, gamma);
  p.params = {{"gamma", std::isinf(gamma) ? nlohmann::json(nullptr) : nlohmann::json(gamma)}};
  return p;
}

// Slot i > 0 is skipped when the mass above it reaches p: p is the quantile
// of that mass leaving the ratio's share of the later slots above it.
Plan plan_top_p(double ratio, const Calibration& c) {
  if (c.top_k < 2) throw Error("skip: top-p needs top_k >= 2 (the first choice always runs), the model has 1");
  if (c.top_p_mass.empty())
    throw Error("skip: top-p: the calibration file predates top-p; delete it (or give another --calibration) "
                "to measure it again");
  const double later = double(c.top_k - 1) / c.top_k;
  const double q = std::min(1.0, ratio / later);
  double p = kInf;
  if (q >= 1.0) p = 0.0;
  else if (q > 0) p = c.top_p_mass[size_t(std::llround((1.0 - q) * Calibration::kQuantiles))];
  Plan plan;
  for (size_t l = 0; l < c.layers.size(); ++l) plan.rules.push_back(top_p_rule(p));
  plan.expected_ratio = later * (1.0 - (std::isinf(p) ? 1.0 : share_below(c.top_p_mass, p)));
  plan.params = {{"p", std::isinf(p) ? nlohmann::json(nullptr) : nlohmann::json(p)}};
  return plan;
}

}  // namespace

const std::vector<std::string>& skip_methods() {
  static const std::vector<std::string> m = {"modes", "naee-skip", "top-p", "blind-threshold", "random", "top1", "naee-prune"};
  return m;
}

bool needs_calibration(const std::string& method) {
  return method == "modes" || method == "naee-skip" || method == "top-p" || method == "blind-threshold";
}

bool modes_remembered(const Calibration& c, double ratio) {
  return c.searched.contains("modes") && c.searched["modes"].contains(ratio_key(ratio));
}

double share_below(const std::vector<double>& q, double threshold) {
  if (q.size() < 2) return 0.0;
  // q holds the quantiles at i / (n - 1): the first at or above the threshold is the share below it.
  const double below = double(std::lower_bound(q.begin(), q.end(), threshold) - q.begin());
  return std::min(1.0, below / double(q.size() - 1));
}

Plan plan_method(const std::string& method, double ratio, Calibration& c, const PlanInputs& in) {
  if (!(ratio >= 0 && ratio < 1))
    throw Error("skip: --ratio " + std::to_string(ratio) + " outside [0, 1)");
  if (method == "modes") return plan_modes(ratio, c, in);
  if (method == "blind-threshold") return plan_blind(ratio, c);
  if (method == "naee-skip") return plan_naee(ratio, c);
  if (method == "top-p") return plan_top_p(ratio, c);
  Plan p;
  if (method == "random") {
    for (size_t l = 0; l < c.layers.size(); ++l) p.rules.push_back(random_rule(ratio, in.seed + l));
    p.expected_ratio = ratio;
    p.params = {{"seed", in.seed}};
    return p;
  }
  if (method == "top1") {
    p.rules.resize(c.layers.size());
    p.top_k = 1;
    p.expected_ratio = 1.0 - 1.0 / c.top_k;
    return p;
  }
  std::string known;
  for (const auto& m : skip_methods()) known += (known.empty() ? "" : ", ") + m;
  throw Error("skip: unknown --method '" + method + "' (known: " + known + ")");
}

}  // namespace smoes::skip
