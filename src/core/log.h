// Logging (spdlog), progress bars and JSONL metrics.
#pragma once
#include <chrono>
#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace smoes {

// Level by name: trace, debug, info, warn, error, off. Logs go to stderr so
// stdout stays clean for --json output.
void init_logging(const std::string& level = "info");

// Progress of a long loop. On a terminal: a redrawn bar with count, rate and
// ETA. Otherwise: a plain log line every `plain_interval_s` seconds (and at
// the end), so CI logs and files stay readable.
class Progress {
 public:
  Progress(std::string label, int64_t total, double plain_interval_s = 10.0);
  ~Progress();
  // Moves to `done` items; `status` (e.g. "loss 2.31") is shown after the bar.
  void update(int64_t done, const std::string& status = "");
  void finish(const std::string& status = "");

  // "12.3 it/s ETA 01:05" style summary, exposed for tests.
  static std::string format_eta(double seconds);
  static std::string format_rate(double per_second);  // "2.50 it/s", or "04:10/it" below 0.1 it/s
  bool on_terminal() const { return terminal_; }

 private:
  void draw(const std::string& status, bool final_line);

  std::string label_;
  int64_t total_, done_ = 0, start_done_ = -1;
  double plain_interval_s_;
  bool terminal_, finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

// Appends one JSON object per line to a metrics file, flushed per line; a
// failed write (a full disk, a file-size limit) throws naming the file.
// Opening with `resume_step` >= 0 first drops lines whose "step" is past it,
// so a resumed run's file reads as if the run had never stopped.
class MetricsWriter {
 public:
  explicit MetricsWriter(const std::string& path, int64_t resume_step = -1);
  void write(const nlohmann::json& record);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::ofstream out_;
};

// Every record of a JSONL metrics file. A kill can cut the last line only
// (each line is flushed whole), so a last line that does not parse is skipped
// with a warning; a bad line anywhere else throws naming the file and line.
std::vector<nlohmann::json> read_metrics(const std::string& path);

}  // namespace smoes
