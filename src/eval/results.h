// Reading model results in the official submission formats (and writing
// metric tables). Every record is validated; errors name the file, the record
// (index or key) and the field:
//   "<path>: record 3: field 'caption': expected a string, got number".
// Ids may be JSON integers or strings and are kept as strings ("42").
// Duplicate ids are errors; with `known_ids` given, ids outside it are too.
#pragma once
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "eval/accuracy.h"
#include "eval/grounding.h"

namespace smoes::eval {

using IdSet = std::set<std::string>;

// COCO caption results: [{"image_id": 42, "caption": "a dog ..."}, ...].
std::map<std::string, std::string> read_caption_results(const std::string& path, const IdSet* known_ids = nullptr);

// Answers: VQA results [{"question_id": 1, "answer": "yes"}, ...], or a plain
// object {"<question_id>": "<answer>", ...} (GQA, NLVR2, SNLI-VE, A-OKVQA...).
std::map<std::string, std::string> read_answer_results(const std::string& path, const IdSet* known_ids = nullptr);

// Grounding results: [{"ref_id": 7, "bbox": [x, y, w, h]}, ...]; "image_id"
// is the id when a record has no "ref_id" (files that carry both are keyed by
// ref_id). Also a plain object {"<id>": [x, y, w, h]}. Boxes need 4 finite
// numbers with w, h >= 0.
std::map<std::string, Box> read_box_results(const std::string& path, const IdSet* known_ids = nullptr);

// VCR results: {"<annot_id>": {"answer": 2, "rationale": 0}, ...} (choice indices 0..3).
std::map<std::string, VcrPrediction> read_vcr_results(const std::string& path, const IdSet* known_ids = nullptr);

// Writes a metric table as indented JSON (atomically).
void write_metrics(const std::string& path, const nlohmann::json& metrics);

}  // namespace smoes::eval
