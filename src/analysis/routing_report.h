// The human side of `smoes analyze routing`: a Markdown summary of
// probe_routing's JSON and its plots, drawn by gnuplot (a subprocess fed a
// generated script) as PNG and SVG.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace smoes::analysis {

// The Markdown summary of `result` (probe_routing's JSON) with links to `plots`.
std::string routing_markdown(const nlohmann::json& result, const std::vector<std::string>& plots);

// Plots of `result` as <base>_<name>.png and .svg: the per-expert text
// fraction heatmap, MSI and MI per layer, the cross-device rate per device
// count, and the soft scores per layer when the router has them. Returns the
// PNG paths; with no gnuplot on PATH, logs a warning and returns none.
std::vector<std::string> plot_routing(const nlohmann::json& result, const std::string& base);

// Both: <base>.md (atomically) and the plots. Returns the files written.
std::vector<std::string> write_routing_report(const nlohmann::json& result, const std::string& base);

}  // namespace smoes::analysis
