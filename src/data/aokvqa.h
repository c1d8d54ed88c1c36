// A-OKVQA (Schwenk et al. 2022) in its published format:
//   aokvqa_v1p0_{train,val,test}.json, a JSON list of
//   {split, image_id, question_id, question, choices: [4], correct_choice_idx,
//    direct_answers: [10], difficult_direct_answer, rationales: [...]};
//   the test split has no correct_choice_idx, direct_answers nor rationales.
//   Images: COCO 2017, <coco_dir>/<split>2017/<image_id as 12 digits>.jpg
//   (.png when there is no .jpg), <split> being the record's "split".
//
// One Example per question, in file order: task "aokvqa", id = question_id,
// prompt aokvqa_prompt(question), choices, answer_index = correct_choice_idx
// (-1 when absent), targets = the 10 direct answers (empty when absent), meta
// rationales (joined with "\n", when present) and difficult_direct_answer
// ("true" / "false", when present).
//
// The file is checked against the nearest MANIFEST.json (verify_file_against_manifest).
// strict = true: the first bad record throws smoes::Error naming the file, the
// record ("[3] (question_id ...)") and the field; strict = false: bad records
// and records whose image is missing are skipped and counted in `report`.
#pragma once
#include <string>
#include <vector>

#include "data/example.h"

namespace smoes::data {

// "<image>\nQuestion: <question> Answer with a word or a short phrase."
std::string aokvqa_prompt(const std::string& question);

std::vector<Example> load_aokvqa(const std::string& json_path, const std::string& coco_dir, bool strict = true,
                                 LoadReport* report = nullptr);

}  // namespace smoes::data
