// From finished runs to answers: each research question's tables, plots and
// verdicts, computed from the JSON results of its runs. Every per-seed value
// read is recorded with its file and JSON pointer (results.json
// "measurements"), so the report's numbers can be traced and checked.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "study/grid.h"

namespace smoes::study {

struct Table {
  std::string title;
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  nlohmann::json to_json() const;
};

struct Figure {
  std::string file;  // PNG, relative to the study folder
  std::string caption;
};

struct Answer {
  Answer(std::string id, std::string title, std::string question)
      : id(std::move(id)), title(std::move(title)), question(std::move(question)) {}
  std::string id, title, question;
  std::string verdict;                // the headline claim's verdict
  std::vector<std::string> verdicts;  // "claim: estimate -> verdict", headline first
  std::vector<Table> tables;
  std::vector<Figure> figures;
  std::vector<std::string> notes;  // what is missing, what a number means
  nlohmann::json to_json() const;
};

// Reads the runs' result files, recording each value it uses.
class Results {
 public:
  Results(const Grid& grid, const StudySpec& spec) : grid_(grid), spec_(spec) {}
  // The value at `pointer` in `step`'s file of the (model, seed) run; nullopt
  // when the run or file is missing or holds no number there.
  std::optional<double> value(const std::string& model, int seed, const Step& step, const std::string& pointer);
  // The JSON at `pointer` (nullptr when absent); values read from it are the caller's to record.
  const nlohmann::json* json(const std::string& model, int seed, const Step& step, const std::string& pointer);
  void record(const std::string& model, int seed, const Step& step, const std::string& pointer, double v);
  const std::vector<int>& seeds() const { return spec_.seeds; }
  const StudySpec& spec() const { return spec_; }
  const Grid& grid() const { return grid_; }
  nlohmann::json measurements = nlohmann::json::array();

 private:
  const nlohmann::json* file(const std::string& model, int seed, const Step& step);
  const Grid& grid_;
  const StudySpec& spec_;
  std::map<std::string, nlohmann::json> cache_;
};

// The task's headline metric: CIDEr-D for captions, Acc@0.5 for grounding, else accuracy.
std::string headline_metric(const std::string& task);

// Every question the spec asks, answered from whatever has finished; plots go
// to <study>/figures/.
std::vector<Answer> answer_all(Results& results);

}  // namespace smoes::study
