// VQA v2 and VQA-CP v2 in their published formats.
//
// VQA v2 (visualqa.org):
//   v2_OpenEnded_mscoco_<subtype>_questions.json
//     {"data_subtype": "val2014", "questions": [{image_id, question, question_id}], ...}
//   v2_mscoco_<subtype>_annotations.json (absent for the test splits)
//     {"annotations": [{question_id, image_id, question_type, answer_type,
//       multiple_choice_answer, answers: [10 x {answer, answer_confidence, answer_id}]}], ...}
//   images <coco_images_dir>/<subtype>/COCO_<subtype>_<image_id as 12 digits>.jpg
//   (.png when there is no .jpg). The subtype is the questions file's
//   "data_subtype", else the one in its name; test-dev2015 images live in test2015.
// VQA-CP v2 (Agrawal et al. 2018): vqacp_v2_{train,test}_{questions,annotations}.json
//   are plain JSON lists of the same records, each with "coco_split"
//   ("train2014" / "val2014") naming the image folder.
//
// One Example per question, in file order: task "vqa_v2" / "vqa_cp", id =
// question_id, prompt vqa_prompt(question), targets = the 10 human answers in
// file order (training samples one), meta question_type, answer_type,
// multiple_choice_answer, and for VQA-CP coco_split. Without annotations
// (annotations_json == "") there are no targets and no annotation meta.
//
// Both files are checked against the nearest MANIFEST.json
// (verify_file_against_manifest). strict = true: the first bad record throws
// smoes::Error naming the file, the record (e.g. "questions[3] (question_id
// 7)") and the field; strict = false: bad records, questions without an
// annotation and questions whose image file is missing are skipped and counted
// in `report` (records = questions + annotations). A file that is not JSON or
// not shaped like the format is an error in both modes.
#pragma once
#include <string>
#include <vector>

#include "data/example.h"

namespace smoes::data {

extern const char* const kVqaInstruction;  // "Answer with a word or a number."

// "<image>\nQuestion: <question> Answer with a word or a number."
std::string vqa_prompt(const std::string& question);

std::vector<Example> load_vqa_v2(const std::string& questions_json, const std::string& annotations_json,
                                 const std::string& coco_images_dir, bool strict = true, LoadReport* report = nullptr);

std::vector<Example> load_vqa_cp(const std::string& questions_json, const std::string& annotations_json,
                                 const std::string& coco_images_dir, bool strict = true, LoadReport* report = nullptr);

}  // namespace smoes::data
