#include "core/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "core/error.h"
#include "core/files.h"

namespace smoes {

void init_logging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("smoes");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("[%H:%M:%S] %^%l%$ %v");
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off")
    throw Error("--log-level '" + level + "': expected trace, debug, info, warn, error or off");
  spdlog::set_level(lvl);
}

Progress::Progress(std::string label, int64_t total, double plain_interval_s)
    : label_(std::move(label)),
      total_(total),
      plain_interval_s_(plain_interval_s),
      terminal_(::isatty(::fileno(stderr)) == 1),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::~Progress() {
  if (!finished_ && terminal_) std::fputc('\n', stderr);
}

std::string Progress::format_rate(double per_second) {
  char buf[48];
  // Slow work (a study's runs take minutes each) reads better per item than as 0.00 it/s.
  if (per_second > 0 && per_second < 0.1)
    std::snprintf(buf, sizeof buf, "%s/it", format_eta(1.0 / per_second).c_str());
  else
    std::snprintf(buf, sizeof buf, "%.2f it/s", per_second);
  return buf;
}

std::string Progress::format_eta(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  auto s = static_cast<int64_t>(seconds + 0.5);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", (long long)(s / 3600), (long long)(s / 60 % 60),
                  (long long)(s % 60));
  else
    std::snprintf(buf, sizeof buf, "%02lld:%02lld", (long long)(s / 60), (long long)(s % 60));
  return buf;
}

void Progress::update(int64_t done, const std::string& status) {
  if (start_done_ < 0) start_done_ = done;  // rate counts only work done in this process (resume)
  done_ = done;
  auto now = std::chrono::steady_clock::now();
  double since_draw = std::chrono::duration<double>(now - last_draw_).count();
  if (terminal_ ? since_draw >= 0.1 : since_draw >= plain_interval_s_) draw(status, false);
}

void Progress::finish(const std::string& status) {
  if (finished_) return;
  draw(status, true);
  finished_ = true;
}

void Progress::draw(const std::string& status, bool final_line) {
  auto now = std::chrono::steady_clock::now();
  last_draw_ = now;
  double elapsed = std::chrono::duration<double>(now - start_).count();
  double rate = elapsed > 0 ? (done_ - std::max<int64_t>(start_done_, 0)) / elapsed : 0;
  double eta = rate > 0 ? (total_ - done_) / rate : NAN;
  std::string tail = format_rate(rate) + (final_line ? " elapsed " + format_eta(elapsed) : " ETA " + format_eta(eta)) +
                     (status.empty() ? "" : "  " + status);
  if (terminal_) {
    const int width = 30;
    int filled = total_ > 0 ? static_cast<int>(width * std::min<int64_t>(done_, total_) / total_) : 0;
    std::fprintf(stderr, "\r\033[K%s [%s%s] %lld/%lld %s%s", label_.c_str(), std::string(filled, '#').c_str(),
                 std::string(width - filled, ' ').c_str(), (long long)done_, (long long)total_, tail.c_str(),
                 final_line ? "\n" : "");
    std::fflush(stderr);
  } else {
    spdlog::info("{} {}/{} {}", label_, done_, total_, tail);
  }
}

MetricsWriter::MetricsWriter(const std::string& path, int64_t resume_step) : path_(path) {
  namespace fs = std::filesystem;
  if (fs::path(path).has_parent_path()) fs::create_directories(fs::path(path).parent_path());
  if (resume_step >= 0 && fs::exists(path)) {
    std::istringstream in(read_file(path));
    std::string line, kept;
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded()) continue;  // a line cut by the crash
      if (j.is_object() && j.contains("step") && j["step"].is_number() && j["step"].get<int64_t>() > resume_step)
        continue;
      kept += line + "\n";
    }
    write_file_atomic(path, kept);
  }
  out_.open(path, std::ios::app);
  if (!out_) throw Error(path + ": cannot open metrics file for appending");
}

void MetricsWriter::write(const nlohmann::json& record) {
  errno = 0;
  out_ << record.dump() << '\n';
  out_.flush();
  if (!out_) throw Error(path_ + ": cannot append a metrics record: " + (errno ? std::strerror(errno) : "write failed"));
}

std::vector<nlohmann::json> read_metrics(const std::string& path) {
  std::istringstream in(read_file(path));
  std::vector<std::pair<size_t, std::string>> lines;  // (line number, text) of the non-empty lines
  size_t number = 0;
  for (std::string line; std::getline(in, line);)
    if (++number, !line.empty()) lines.emplace_back(number, line);
  std::vector<nlohmann::json> records;
  for (size_t i = 0; i < lines.size(); ++i) {
    auto j = nlohmann::json::parse(lines[i].second, nullptr, false);
    if (j.is_object()) {
      records.push_back(std::move(j));
    } else if (i + 1 == lines.size()) {
      spdlog::warn("{}: skipping its last line, cut short (the run was killed while writing it)", path);
    } else {
      throw Error(path + ": line " + std::to_string(lines[i].first) + " is not a JSON object");
    }
  }
  return records;
}

}  // namespace smoes
