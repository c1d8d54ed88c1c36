// VCR (Zellers et al. 2019) in its published format:
//   {train,val,test}.jsonl, JSON lines:
//   {annot_id, img_fn, metadata_fn, objects: ["person", "person", "horse", ...],
//    question: tokens, answer_choices: [4 x tokens], answer_label,
//    rationale_choices: [4 x tokens], rationale_label, ...}
//   where tokens is a list of words and object references, a reference being
//   a list of indices into `objects` (["Why", "is", [0], "smiling", "?"]);
//   test.jsonl has no labels. Images <images_dir>/<img_fn> (the vcr1images
//   folder; a .jpg name falls back to .png).
//
// Text: words joined by spaces, without a space before punctuation, closing
// brackets and contractions ("?", ",", ")", "'s", "n't", ...) or after an
// opening bracket ("(", "[", "{", "$"); an object reference becomes the
// object name followed by its index in `objects` (0-based, so it names the
// box in the metadata file): [0] -> "person0", [0, 2] -> "person0 and
// horse2", [0, 1, 2] -> "person0, person1 and horse2".
//
// Two Examples per line, with the same id (annot_id) and image:
//   task "vcr_qa":  prompt vcr_qa_prompt(question), choices = the 4 answers,
//                   answer_index = answer_label (-1 without labels);
//   task "vcr_qar": prompt vcr_qar_prompt(question, right answer), choices =
//                   the 4 rationales, answer_index = rationale_label (-1 when
//                   absent). Emitted only when answer_label is known: QA->R
//                   is conditioned on the right answer.
// Both have targets {the right choice} when labelled, and meta metadata_fn
// (<images_dir>/<metadata_fn>, when present: it holds the object boxes).
//
// The file is checked against the nearest MANIFEST.json (verify_file_against_manifest).
// strict = true: the first bad line throws smoes::Error naming the file, the
// line (and annot_id) and the field; strict = false: bad lines and lines whose
// image is missing are skipped and counted in `report`.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/example.h"

namespace smoes::data {

// "<image>\nQuestion: <question>\nAnswer:"
std::string vcr_qa_prompt(const std::string& question);
// "<image>\nQuestion: <question>\nAnswer: <answer>\nRationale:"
std::string vcr_qar_prompt(const std::string& question, const std::string& answer);

// VCR tokens -> text as described above; false with `problem` set when a
// token is neither a string nor a list of valid object indices.
bool render_vcr_tokens(const nlohmann::json& tokens, const std::vector<std::string>& objects, std::string& text,
                       std::string& problem);

std::vector<Example> load_vcr(const std::string& jsonl, const std::string& images_dir, bool strict = true,
                              LoadReport* report = nullptr);

}  // namespace smoes::data
