#include "analysis/routing_report.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <sstream>

#include "core/error.h"
#include "core/files.h"
#include "core/plot.h"

namespace smoes::analysis {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string num(const json& v, const char* format = "%.3f") {
  if (v.is_null()) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, format, v.get<double>());
  return buf;
}

// gnuplot's "not a number" for JSON null (a blank cell or a gap in a line).
std::string gp(const json& v) { return v.is_null() ? "NaN" : num(v, "%.6g"); }

std::string layer_table(const json& r) {
  std::ostringstream md;
  const bool soft = !r["soft_scores"].is_null();
  md << "| layer | MSI | MI (nats) | gate entropy / max | unused experts | dropped % |"
     << (soft ? " mean vision score: text / vision tokens |" : "") << "\n|---|---|---|---|---|---|"
     << (soft ? "---|" : "") << "\n";
  for (size_t i = 0; i < r["layers"].size(); ++i) {
    const auto& s = r["layers"][i];
    md << "| " << s["layer"].get<int>() << " | " << num(r["msi_per_layer"][i]) << " | "
       << num(r["mutual_information"][i], "%.4f") << " | " << num(s["gate_entropy"]) << " / "
       << num(s["max_entropy"]) << " | " << s["unused_experts"].get<int64_t>() << " | "
       << num(s["dropped_pct"], "%.2f") << " |";
    if (soft) {
      const auto& l = r["soft_scores"][i];
      md << " " << num(l["text"]["mean_vision_score"]) << " / " << num(l["vision"]["mean_vision_score"]) << " |";
    }
    md << "\n";
  }
  return md.str();
}

std::string parallel_table(const json& r) {
  std::ostringstream md;
  const auto& ep = r["expert_parallel"];
  md << "Placement: " << ep["placement"].get<std::string>() << "; " << ep["bytes_per_element"].get<int>()
     << " bytes per element, d_model " << ep["d_model"].get<int64_t>()
     << ". Rates are over (token, MoE layer) pairs; bytes per token are summed over the MoE layers (dispatch only).\n\n"
     << "| devices | prefill vision | prefill text | prefill all | decode text | prefill bytes/token | decode bytes/token |\n"
     << "|---|---|---|---|---|---|---|\n";
  for (const auto& entry : ep["devices"]) {
    const auto& p = entry["all_layers"]["prefill"];
    const auto& dec = entry["all_layers"]["decode"];
    md << "| " << entry["devices"].get<int>() << " | " << num(p["vision"]["cross_rate"]) << " | " << num(p["text"]["cross_rate"]) << " | "
       << num(p["all"]["cross_rate"]) << " | " << num(dec["text"]["cross_rate"]) << " | "
       << num(p["all"]["bytes_per_token"], "%.0f") << " | " << num(dec["all"]["bytes_per_token"], "%.0f") << " |\n";
  }
  return md.str();
}

void plot_text_fraction(const json& r, const std::string& path) {
  std::ostringstream data;
  data << "$M << EOD\n";
  for (const auto& row : r["text_fraction"]) {
    for (const auto& v : row) data << gp(v) << " ";
    data << "\n";
  }
  data << "EOD\n";
  std::ostringstream body;
  const auto experts = r["experts"].get<int64_t>();
  const auto layers = r["moe_layers"];
  body << "set title \"Text fraction per expert, normalised by token counts (1 = text only, 0 = vision only; grey = "
          "unused)\\nMSI "
       << num(r["msi"]) << "\"\n"
       << "set xlabel 'expert'\nset ylabel 'MoE layer'\nset cbrange [0:1]\nset cblabel 'normalised text fraction'\n"
       << "set palette defined (0 '#2166ac', 0.5 '#f7f7f7', 1 '#b2182b')\n"
       << "set object 1 rectangle from graph 0,0 to graph 1,1 behind fillcolor rgb '#9e9e9e' fillstyle solid noborder\n"
       << "set xrange [-0.5:" << experts - 0.5 << "]\nset yrange [" << layers.size() - 0.5 << ":-0.5]\n"  // layer 0 on top
       << "set xtics 1\nset ytics (";
  for (size_t i = 0; i < layers.size(); ++i) body << (i ? ", " : "") << "'" << layers[i].get<int>() << "' " << i;
  body << ")\nset datafile missing 'NaN'\nplot $M matrix with image notitle, "
       << "$M matrix using 1:2:($3 == $3 ? sprintf('%.2f', $3) : '') with labels font ',8' notitle\n";
  render_gnuplot(path, data.str(), body.str());
}

void plot_per_layer(const json& r, const std::string& path) {
  std::ostringstream data;
  data << "$L << EOD\n";
  for (size_t i = 0; i < r["moe_layers"].size(); ++i)
    data << r["moe_layers"][i].get<int>() << " " << gp(r["msi_per_layer"][i]) << " "
         << gp(r["mutual_information"][i]) << "\n";
  data << "EOD\n";
  std::string body =
      "set title 'Modality specialization per MoE layer'\nset xlabel 'layer'\nset ylabel 'MSI'\n"
      "set y2label 'I(modality; bin), nats'\nset yrange [0:1]\nset y2range [0:log(2)]\nset ytics nomirror\n"
      "set y2tics\nset xtics 1\nset key top left\nset grid\n"
      "plot $L using 1:2 with linespoints lw 2 pt 7 title 'MSI', "
      "$L using 1:3 axes x1y2 with linespoints lw 2 pt 5 title 'MI (right axis)'\n";
  render_gnuplot(path, data.str(), body);
}

void plot_cross_device(const json& r, const std::string& path) {
  std::ostringstream data;
  data << "$D << EOD\n";
  for (const auto& entry : r["expert_parallel"]["devices"]) {
    const auto& p = entry["all_layers"]["prefill"];
    data << entry["devices"].get<int>() << " " << gp(p["vision"]["cross_rate"]) << " " << gp(p["text"]["cross_rate"])
         << " " << gp(p["all"]["cross_rate"]) << " " << gp(entry["all_layers"]["decode"]["text"]["cross_rate"]) << "\n";
  }
  data << "EOD\n";
  std::string body =
      "set title \"Expert-parallel cross-device rate, all MoE layers\\nplacement: " +
      r["expert_parallel"]["placement"].get<std::string>() + "\"\nset xlabel 'devices'\nset ylabel 'tokens with an expert off their home device'\nset yrange [0:1]\n"
      "set logscale x 2\nset key bottom right\nset grid\n"
      "plot $D using 1:2 with linespoints lw 2 pt 7 title 'prefill vision', "
      "$D using 1:3 with linespoints lw 2 pt 5 title 'prefill text', "
      "$D using 1:4 with linespoints lw 2 pt 9 title 'prefill all', "
      "$D using 1:5 with linespoints lw 2 dt 2 pt 11 title 'decode text'\n";
  render_gnuplot(path, data.str(), body);
}

void plot_soft_scores(const json& r, const std::string& path) {
  std::ostringstream data;
  data << "$S << EOD\n";
  for (const auto& l : r["soft_scores"])
    data << l["layer"].get<int>() << " " << gp(l["text"]["mean_vision_score"]) << " "
         << gp(l["vision"]["mean_vision_score"]) << "\n";
  data << "EOD\n";
  std::string body =
      "set title 'Soft modality score with depth: how fast text and vision tokens fuse'\nset xlabel 'layer'\n"
      "set ylabel 'mean soft vision score'\nset yrange [0:1]\nset xtics 1\nset key center right\nset grid\n"
      "plot $S using 1:3 with linespoints lw 2 pt 7 title 'vision tokens', "
      "$S using 1:2 with linespoints lw 2 pt 5 title 'text tokens'\n";
  render_gnuplot(path, data.str(), body);
}

}  // namespace

std::string routing_markdown(const json& r, const std::vector<std::string>& plots) {
  std::ostringstream md;
  md << "# Routing analysis (" << r["split"].get<std::string>() << " split)\n\n"
     << "Router `" << r["router"].get<std::string>() << "`, " << r["experts"].get<int64_t>() << " experts, top-"
     << r["top_k"].get<int64_t>() << "; " << r["examples"].get<int64_t>() << " examples (";
  bool first = true;
  for (const auto& [task, n] : r["tasks"].items()) md << (first ? "" : ", ") << task << " " << n, first = false;
  md << "), prefill and greedy decode. Every number is defined in docs/analysis.md.\n\n"
     << "* **MSI** " << num(r["msi"]) << " (0 = no modality specialization, 1 = hard partition); "
     << r["msi_unused_experts"].get<int64_t>() << " (layer, expert) pairs unused and skipped.\n"
     << "* **Bins** for the mutual information: "
     << (r["bins_from"] == "router" ? "the router's `expert_bin`" : "the adaptive rule on the measured loads") << ".\n"
     << "* **Soft scores**: "
     << (r["soft_scores"].is_null() ? r["soft_scores_note"].get<std::string>() : "per layer below") << ".\n\n"
     << "## Per layer\n\n" << layer_table(r) << "\n## Expert parallelism\n\n" << parallel_table(r);
  if (!plots.empty()) md << "\n## Plots\n\n";
  for (const auto& p : plots) {
    const auto name = fs::path(p).filename().string();
    md << "![" << fs::path(p).stem().string() << "](" << name << ")\n";
  }
  return md.str();
}

std::vector<std::string> plot_routing(const json& r, const std::string& base) {
  if (!have_gnuplot()) {
    spdlog::warn("gnuplot not found on PATH: skipping the routing plots (scripts/bootstrap.sh installs it)");
    return {};
  }
  std::vector<std::pair<std::string, void (*)(const json&, const std::string&)>> plots = {
      {"text_fraction", plot_text_fraction}, {"per_layer", plot_per_layer}, {"cross_device", plot_cross_device}};
  if (!r["soft_scores"].is_null()) plots.push_back({"soft_scores", plot_soft_scores});
  std::vector<std::string> written;
  for (const auto& [name, plot] : plots) {
    plot(r, base + "_" + name);
    written.push_back(base + "_" + name + ".png");
  }
  return written;
}

std::vector<std::string> write_routing_report(const json& r, const std::string& base) {
  auto files = plot_routing(r, base);
  write_file_atomic(base + ".md", routing_markdown(r, files));
  files.push_back(base + ".md");
  return files;
}

}  // namespace smoes::analysis
