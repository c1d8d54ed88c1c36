#include "eval/caption_metrics.h"

#include "core/error.h"
#include "eval/bleu.h"
#include "eval/cider.h"
#include "eval/ids.h"
#include "eval/rouge.h"
#include "eval/text_normalize.h"

namespace smoes::eval {

std::vector<CaptionSample> make_caption_samples(const std::map<std::string, std::vector<std::string>>& references,
                                                const std::map<std::string, std::string>& predictions) {
  require_same_ids("captions", references, predictions);
  // Like coco-caption, tokenise all references in one tokenizer run and all
  // candidates in another (a caption's last token can depend on the next line).
  std::vector<std::string> ref_lines, cand_lines;
  for (const auto& [id, refs] : references) {
    if (refs.empty()) throw Error("captions: image " + id + " has no reference captions");
    ref_lines.insert(ref_lines.end(), refs.begin(), refs.end());
    cand_lines.push_back(predictions.at(id));
  }
  auto ref_tokens = caption_tokens_lines(ref_lines);
  auto cand_tokens = caption_tokens_lines(cand_lines);
  std::vector<CaptionSample> samples;
  size_t next_ref = 0;
  for (const auto& [id, refs] : references) {
    CaptionSample s;
    s.candidate = std::move(cand_tokens[samples.size()]);
    for (size_t k = 0; k < refs.size(); ++k) s.references.push_back(std::move(ref_tokens[next_ref++]));
    samples.push_back(std::move(s));
  }
  return samples;
}

nlohmann::json caption_metrics(const std::map<std::string, std::vector<std::string>>& references,
                               const std::map<std::string, std::string>& predictions) {
  if (references.empty()) throw Error("captions: no images to evaluate");
  auto samples = make_caption_samples(references, predictions);
  auto b = bleu(samples);
  nlohmann::json out;
  for (int n = 0; n < 4; ++n) out["BLEU-" + std::to_string(n + 1)] = b[n];
  out["ROUGE-L"] = rouge_l(samples).score;
  out["CIDEr-D"] = cider_d(samples).score;
  out["images"] = samples.size();
  return out;
}

}  // namespace smoes::eval
