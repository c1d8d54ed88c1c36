// SNLI-VE (Xie et al. 2019) in its published format:
//   snli_ve_{train,dev,test}.jsonl, JSON lines (SNLI records with the premise
//   replaced by a Flickr30K image):
//   {Flickr30K_ID, sentence1 (the caption, optional), sentence2 (the
//    hypothesis), gold_label: entailment | neutral | contradiction, pairID, ...}
//   images <images_dir>/<Flickr30K_ID>.jpg (.png when there is no .jpg).
//   Older releases spell the key Flikr30kID (or Flickr30kID) and give the
//   file name, "2248275918.jpg"; both read the same.
//
// One Example per line: task "snli_ve", id = pairID, prompt
// snli_ve_prompt(sentence2), choices kSnliVeChoices = {"entailment",
// "neutral", "contradiction"}, answer_index of gold_label, targets
// {gold_label}, meta premise (= sentence1, when present).
//
// The file is checked against the nearest MANIFEST.json (verify_file_against_manifest).
// strict = true: the first bad line throws smoes::Error naming the file, the
// line (and pairID) and the field; strict = false: bad lines and lines whose
// image is missing are skipped and counted in `report`.
#pragma once
#include <string>
#include <vector>

#include "data/example.h"

namespace smoes::data {

extern const std::vector<std::string> kSnliVeChoices;  // {"entailment", "neutral", "contradiction"}

// "<image>\nHypothesis: <hypothesis>\nDoes the image entail the hypothesis, contradict it, or neither?
//  Answer entailment, neutral or contradiction."
std::string snli_ve_prompt(const std::string& hypothesis);

std::vector<Example> load_snli_ve(const std::string& jsonl, const std::string& images_dir, bool strict = true,
                                  LoadReport* report = nullptr);

}  // namespace smoes::data
