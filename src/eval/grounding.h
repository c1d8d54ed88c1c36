// Visual grounding (RefCOCO-style): IoU of [x, y, w, h] boxes and Acc@0.5.
#pragma once
#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace smoes::eval {

// COCO box: top-left corner and size, in pixels (continuous coordinates, no +1).
struct Box {
  double x = 0, y = 0, w = 0, h = 0;
};

// Intersection over union; 0 when the union has no area (two empty boxes).
double box_iou(const Box& a, const Box& b);

// {"Acc@0.5": fraction of predictions with IoU >= threshold (>= counts),
//  "mean_IoU", "count"}. The key follows the threshold ("Acc@0.7" for 0.7...).
// Throws smoes::Error when the id sets differ or there is nothing to evaluate.
nlohmann::json grounding_metrics(const std::map<std::string, Box>& ground_truth,
                                 const std::map<std::string, Box>& predictions, double threshold = 0.5);

}  // namespace smoes::eval
