// The picture of a `smoes skip --sweep`: a task's headline metric against
// the achieved skip ratio and against executed GFLOPs per token, one line
// per method, the unskipped model as a point (PNG + SVG via gnuplot).
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace smoes::skip {

// The name of the metric a task is judged by, from its metrics object
// (accuracy, Acc@0.5, CIDEr-D, perplexity, ...); "" when it has none of them.
std::string headline_metric(const nlohmann::json& task_metrics);

// Plots run_skip's result for `task` as <path_no_ext>.png / .svg. Returns
// false (and writes nothing) when gnuplot is not on PATH.
bool plot_sweep(const nlohmann::json& result, const std::string& task, const std::string& path_no_ext);

}  // namespace smoes::skip
