#include "eval/grounding.h"

#include <algorithm>
#include <cstdio>

#include "core/error.h"
#include "eval/ids.h"

namespace smoes::eval {

double box_iou(const Box& a, const Box& b) {
  double iw = std::min(a.x + a.w, b.x + b.w) - std::max(a.x, b.x);
  double ih = std::min(a.y + a.h, b.y + b.h) - std::max(a.y, b.y);
  double inter = iw > 0 && ih > 0 ? iw * ih : 0.0;
  double uni = std::max(a.w, 0.0) * std::max(a.h, 0.0) + std::max(b.w, 0.0) * std::max(b.h, 0.0) - inter;
  return uni > 0 ? inter / uni : 0.0;
}

nlohmann::json grounding_metrics(const std::map<std::string, Box>& ground_truth,
                                 const std::map<std::string, Box>& predictions, double threshold) {
  if (ground_truth.empty()) throw Error("grounding: nothing to evaluate");
  require_same_ids("grounding", ground_truth, predictions);
  int hits = 0;
  double iou_sum = 0;
  for (const auto& [id, gt] : ground_truth) {
    double iou = box_iou(predictions.at(id), gt);
    iou_sum += iou;
    if (iou >= threshold) ++hits;
  }
  char key[32];
  std::snprintf(key, sizeof key, "Acc@%g", threshold);
  nlohmann::json out;
  out[key] = static_cast<double>(hits) / ground_truth.size();
  out["mean_IoU"] = iou_sum / ground_truth.size();
  out["count"] = ground_truth.size();
  return out;
}

}  // namespace smoes::eval
