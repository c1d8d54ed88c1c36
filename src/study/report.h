// The study's report: DIR/results.json (every table, verdict and the
// measurement each number came from), DIR/report.md and DIR/report.html (one
// self-contained page, figures embedded as PNG data). Both pages are made
// from results.json's tables, so the page and the JSON cannot disagree.
#pragma once
#include <string>
#include <vector>

#include "study/answers.h"

namespace smoes::study {

struct ReportInputs {
  std::string preset;       // "quick", "full" or a spec file
  double wall_seconds = 0;  // this invocation's
};

// Answers every question from whatever runs have finished and writes the three files.
// Returns the answers (for the caller to print the verdicts).
std::vector<Answer> write_report(const Grid& grid, const StudySpec& spec, const ReportInputs& in);

// "data:image/png;base64,..." of a file; throws naming it when unreadable.
std::string png_data_uri(const std::string& path);

}  // namespace smoes::study
