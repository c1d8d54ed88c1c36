#include "data/snli_ve.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "data/image_paths.h"
#include "data/records.h"

namespace smoes::data {

namespace fs = std::filesystem;
using nlohmann::json;

const std::vector<std::string> kSnliVeChoices = {"entailment", "neutral", "contradiction"};

std::string snli_ve_prompt(const std::string& hypothesis) {
  return "<image>\nHypothesis: " + hypothesis +
         "\nDoes the image entail the hypothesis, contradict it, or neither? Answer entailment, neutral or "
         "contradiction.";
}

namespace {

bool read_gold_label(const Fields& f, int& answer_index) {
  std::string label;
  if (!f.string("gold_label", label)) return false;
  auto it = std::find(kSnliVeChoices.begin(), kSnliVeChoices.end(), label);
  if (it == kSnliVeChoices.end())
    return f.fail("gold_label", "unknown label \"" + label + "\" (expected entailment, neutral or contradiction)");
  answer_index = int(it - kSnliVeChoices.begin());
  return true;
}

// Current releases spell the image key Flickr30K_ID and write "2248275918";
// older ones used the original generator's Flikr30kID or the README's
// Flickr30kID, both with a file name "2248275918.jpg".
const char* const kImageKeys[] = {"Flickr30K_ID", "Flikr30kID", "Flickr30kID"};

// The record's image id without ".jpg" (the finder adds the extension), from
// whichever key it uses; a record with none of the keys is reported under Flickr30K_ID.
bool read_image_id(const Fields& f, std::string& image_id) {
  std::string key = kImageKeys[0];
  for (const char* k : kImageKeys)
    if (f.has(k)) {
      key = k;
      break;
    }
  if (!f.id(key, image_id)) return false;
  const std::string ext = ".jpg";
  if (image_id.size() > ext.size() && image_id.compare(image_id.size() - ext.size(), ext.size(), ext) == 0)
    image_id.resize(image_id.size() - ext.size());
  return true;
}

}  // namespace

std::vector<Example> load_snli_ve(const std::string& jsonl, const std::string& images_dir, bool strict,
                                  LoadReport* report) {
  verify_file_against_manifest(jsonl);
  RecordErrors errors{jsonl, strict, report};
  ImageFinder images;
  std::vector<Example> out;
  for_each_json_line(jsonl, errors, [&](const std::string& record, const json& value) {
    Fields f(value, record, errors);
    std::string pair_id, image_id, hypothesis, premise;
    int answer_index = -1;
    bool has_premise = false;
    if (!f.id("pairID", pair_id)) return;
    f.add_id("pairID", pair_id);
    if (!read_image_id(f, image_id) || !f.string("sentence2", hypothesis) ||
        !f.optional_string("sentence1", premise, has_premise) || !read_gold_label(f, answer_index))
      return;
    std::string stem = (fs::path(images_dir) / image_id).string();
    std::string image = images.find(stem);
    Example ex;
    ex.task = "snli_ve";
    ex.id = pair_id;
    ex.image_paths = {image};
    ex.prompt = snli_ve_prompt(hypothesis);
    ex.choices = kSnliVeChoices;
    ex.answer_index = answer_index;
    ex.targets = {kSnliVeChoices[answer_index]};
    if (has_premise) ex.meta["premise"] = premise;
    out.push_back(std::move(ex));
  });
  return out;
}

}  // namespace smoes::data
