// Fuzz target: the results-file readers (eval/results.h) and the scorers
// they feed. One input is read by all four readers; each reading is scored
// with the task's official metric against ground truth for the same ids, so
// hostile prediction strings reach the caption tokeniser, the VQA answer
// normalisation and the rest. Properties: a file read once reads again with
// its own ids as the known set; every metric is a finite number.
#include "eval/results.h"

#include <cmath>

#include "eval/accuracy.h"
#include "eval/caption_metrics.h"
#include "eval/grounding.h"
#include "eval/vqa.h"
#include "fuzz_common.h"

using namespace smoes::eval;
using nlohmann::json;

namespace {

void check_finite(const json& metrics, const std::string& what) {
  for (const auto& [key, v] : metrics.items()) {
    if (v.is_object()) check_finite(v, what + "." + key);
    if (v.is_number_float() && !std::isfinite(v.get<double>()))
      fuzz::finding(what + ": metric " + key + " is not finite");
  }
}

template <class T>
IdSet ids_of(const std::map<std::string, T>& m) {
  IdSet ids;
  for (const auto& kv : m) ids.insert(kv.first);
  return ids;
}

// Reads with `read`, then again with the ids read as the known set (must
// give the same), then scores with `score`.
template <class Read, class Score>
void read_and_score(const char* name, Read read, Score score) {
  using Map = decltype(read(nullptr));
  Map got;
  bool ok = false;
  fuzz::guard(name, [&] {
    got = read(nullptr);
    ok = true;
  });
  if (!ok) return;
  IdSet known = ids_of(got);
  try {
    if (read(&known).size() != got.size()) fuzz::finding(std::string(name) + ": known ids changed the reading");
  } catch (const std::exception& e) {
    fuzz::finding(std::string(name) + ": a file read once fails with its own ids as the known set: " + e.what());
  }
  fuzz::guard(name, [&] { score(got); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string file = fuzz::write_input("results/results.json", fuzz::as_view(data, size));

  read_and_score(
      "read_caption_results", [&](const IdSet* k) { return read_caption_results(file, k); },
      [](const std::map<std::string, std::string>& captions) {
        std::map<std::string, std::vector<std::string>> refs;
        for (const auto& [id, caption] : captions) refs[id] = {"a red ball on a table", caption};
        check_finite(caption_metrics(refs, captions), "caption_metrics");
      });

  read_and_score(
      "read_answer_results", [&](const IdSet* k) { return read_answer_results(file, k); },
      [](const std::map<std::string, std::string>& answers) {
        std::map<std::string, VqaQuestion> vqa;
        std::map<std::string, std::string> gold, labels, entail;
        std::map<std::string, AokvqaQuestion> aok;
        for (const auto& [id, answer] : answers) {
          vqa[id] =
              VqaQuestion{{"2", "two", answer, "2", "yes", "2", "2 dogs", "2", answer, "2"}, "how many", "number"};
          gold[id] = "yes";
          labels[id] = "True";
          entail[id] = "entailment";
          aok[id] = AokvqaQuestion{{"red", answer, "blue", "green"}, 1, {answer, "red", "red"}, false};
        }
        check_finite(vqa_metrics(vqa, answers), "vqa_metrics");
        check_finite(exact_match_metrics(gold, answers), "exact_match_metrics");
        check_finite(snli_ve_metrics(entail, answers), "snli_ve_metrics");
        check_finite(aokvqa_mc_metrics(aok, answers), "aokvqa_mc_metrics");
        check_finite(aokvqa_da_metrics(aok, answers), "aokvqa_da_metrics");
        // Last: ids with fewer than 3 '-' fields are refused (smoes::Error).
        check_finite(nlvr2_metrics(labels, answers), "nlvr2_metrics");
      });

  read_and_score(
      "read_box_results", [&](const IdSet* k) { return read_box_results(file, k); },
      [](const std::map<std::string, Box>& boxes) {
        std::map<std::string, Box> truth;
        for (const auto& kv : boxes) truth[kv.first] = Box{10, 10, 20, 30};
        for (const auto& [id, b] : boxes) {
          double iou = box_iou(b, truth[id]);
          if (!(iou >= 0 && iou <= 1)) fuzz::finding("box_iou out of [0, 1]");
        }
        check_finite(grounding_metrics(truth, boxes), "grounding_metrics");
      });

  read_and_score(
      "read_vcr_results", [&](const IdSet* k) { return read_vcr_results(file, k); },
      [](const std::map<std::string, VcrPrediction>& predictions) {
        std::map<std::string, VcrGold> gold;
        for (const auto& kv : predictions) gold[kv.first] = VcrGold{1, 2};
        check_finite(vcr_metrics(gold, predictions), "vcr_metrics");
      });
  return 0;
}
