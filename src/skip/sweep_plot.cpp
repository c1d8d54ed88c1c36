#include "skip/sweep_plot.h"

#include <spdlog/spdlog.h>

#include <map>
#include <sstream>
#include <vector>

#include "core/error.h"
#include "core/plot.h"

namespace smoes::skip {

std::string headline_metric(const nlohmann::json& m) {
  for (const char* name : {"accuracy", "Acc@0.5", "CIDEr-D", "perplexity"})
    if (m.contains(name) && m[name].is_number()) return name;
  return "";
}

bool plot_sweep(const nlohmann::json& r, const std::string& task, const std::string& path_no_ext) {
  if (!have_gnuplot()) {
    spdlog::warn("gnuplot not found on PATH: skipping the sweep plot (scripts/bootstrap.sh installs it)");
    return false;
  }
  const auto metric = headline_metric(r["baseline"]["metrics"][task]);
  if (metric.empty()) throw Error("skip sweep: task " + task + " has no headline metric to plot");
  // One datablock per method: achieved skip ratio, GFLOPs per token, metric.
  std::map<std::string, std::vector<const nlohmann::json*>> by_method;
  for (const auto& run : r["runs"]) by_method[run["method"].get<std::string>()].push_back(&run);
  std::ostringstream data, left, right;
  const auto& base = r["baseline"];
  data << "$B << EOD\n0 " << base["gflops_per_token"].get<double>() << " " << base["metrics"][task][metric].get<double>()
       << "\nEOD\n";
  int i = 0;
  for (const auto& [method, runs] : by_method) {
    data << "$M" << i << " << EOD\n";
    for (const auto* run : runs)
      data << (*run)["skip_ratio"]["all"].get<double>() << " " << (*run)["gflops_per_token"].get<double>() << " "
           << (*run)["metrics"][task][metric].get<double>() << "\n";
    data << "EOD\n";
    left << "$M" << i << " using 1:3 with linespoints lw 2 pt " << 5 + 2 * i << " title '" << method << "', ";
    right << "$M" << i << " using 2:3 with linespoints lw 2 pt " << 5 + 2 * i << " title '" << method << "', ";
    ++i;
  }
  const std::string title = task + " " + metric;
  std::ostringstream body;
  body << "set termoption noenhanced\nset multiplot layout 1,2 title '" << title << " under expert skipping'\nset grid\nset key bottom left\n"
       << "set xlabel 'achieved skip ratio (routed slots)'\nset ylabel '" << title << "'\nset xrange [0:1]\n"
       << "plot " << left.str() << "$B using 1:3 with points pt 7 ps 1.5 lc rgb 'black' title 'unskipped'\n"
       << "set xlabel 'executed GFLOPs per token'\nset autoscale x\n"
       << "plot " << right.str() << "$B using 2:3 with points pt 7 ps 1.5 lc rgb 'black' title 'unskipped'\n"
       << "unset multiplot\n";
  render_gnuplot(path_no_ext, data.str(), body.str());
  return true;
}

}  // namespace smoes::skip
