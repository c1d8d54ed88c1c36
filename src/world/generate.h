// `smoes world generate`: writes the embedded world as real dataset files:
// COCO captions + instances, Conceptual Captions TSV, RefCOCO (pickle +
// instances, and MDETR's JSON), VQA v2, VQA-CP v2, GQA, NLVR2, SNLI-VE, VCR,
// A-OKVQA, the text corpus and MANIFEST.json. docs/world.md describes the
// layout and which shift every split tests.
#pragma once
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace smoes::world {

struct WorldOptions {
  std::string preset = "tiny";  // tiny | quick | study | full
  // Objects per scene are 1..max_objects. The study preset draws 1-2: on 2
  // cores a from-scratch decoder learns to ground in 1-6-object scenes too
  // slowly for the study (../shared/design/TESTBED.md, docs/world.md).
  int max_objects = 6;
  uint64_t seed = 1;
  int image_size = 64;
  // Images (NLVR2: sets of 4 image pairs) per dataset split, filled from the
  // preset by `for_preset`; keys like "coco_train2014", "gqa_val", "nlvr2_dev".
  std::map<std::string, int> counts;
  int corpus_scenes = 0;
  int threads = 0;  // rendering threads (0: the machine's cores, at most 8); never changes the bytes

  static WorldOptions for_preset(const std::string& preset, uint64_t seed);
  nlohmann::json to_json() const;
};

// Writes everything under `out_dir` (created if missing) and returns the
// manifest it wrote to out_dir/MANIFEST.json.
nlohmann::json generate(const WorldOptions& options, const std::string& out_dir);

}  // namespace smoes::world
