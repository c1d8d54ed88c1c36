// GQA (Hudson & Manning 2019) in its published format:
//   <split>_balanced_questions.json (also <split>_all_questions*.json): a JSON
//   object question id -> {imageId, question, answer, fullAnswer,
//   types: {structural, semantic, detailed}, isBalanced, semantic, ...};
//   images <images_dir>/<imageId>.jpg (.png when there is no .jpg).
//
// One Example per question, in question-id (key) order: task "gqa", id = the
// key, prompt vqa_prompt(question), targets = {answer}, meta structural,
// semantic, detailed, fullAnswer. The test / submission files carry no
// answer: such records get no targets (answer, fullAnswer and types are
// optional, but checked when present).
//
// The file is checked against the nearest MANIFEST.json (verify_file_against_manifest).
// strict = true: the first bad record throws smoes::Error naming the file,
// the record (question "<id>") and the field; strict = false: bad records and
// records whose image is missing are skipped and counted in `report`.
#pragma once
#include <string>
#include <vector>

#include "data/example.h"

namespace smoes::data {

std::vector<Example> load_gqa(const std::string& questions_json, const std::string& images_dir, bool strict = true,
                              LoadReport* report = nullptr);

}  // namespace smoes::data
