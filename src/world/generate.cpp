#include "world/generate.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "core/files.h"
#include "world/datasets.h"
#include "world/text.h"

namespace smoes::world {

WorldOptions WorldOptions::for_preset(const std::string& preset, uint64_t seed) {
  WorldOptions o;
  o.preset = preset;
  o.seed = seed;
  // Per preset: images per split (NLVR2: sets of 4 image pairs), then corpus scenes.
  auto set = [&](std::vector<int> n, int corpus) {
    const char* keys[] = {"coco_train2014", "coco_val2014", "coco_heldout2014", "cc_train", "cc_val",
                          "gqa_train",      "gqa_val",      "gqa_testdev",      "nlvr2_train", "nlvr2_dev",
                          "nlvr2_test1",    "snli_ve_train", "snli_ve_dev",     "snli_ve_test", "vcr_train",
                          "vcr_val",        "aokvqa_train", "aokvqa_val"};
    for (size_t i = 0; i < n.size(); ++i) o.counts[keys[i]] = n[i];
    o.corpus_scenes = corpus;
  };
  if (preset == "tiny") {
    set({40, 8, 8, 16, 8, 12, 6, 6, 3, 2, 2, 12, 6, 6, 12, 6, 16, 8}, 50);
  } else if (preset == "quick" || preset == "study") {
    set({2000, 300, 300, 1000, 300, 800, 150, 150, 150, 40, 40, 600, 150, 150, 600, 150, 800, 300}, 5000);
  } else if (preset == "full") {
    set({20000, 2000, 2000, 10000, 2000, 10000, 1000, 1000, 2500, 250, 250, 8000, 1000, 1000, 8000, 1000, 8000,
         1000},
        50000);
  } else {
    throw Error("world: unknown preset '" + preset + "' (expected tiny, quick, study or full)");
  }
  if (preset == "study") o.max_objects = 2;
  return o;
}

nlohmann::json WorldOptions::to_json() const {
  return {{"preset", preset}, {"seed", seed}, {"image_size", image_size}, {"max_objects", max_objects}, {"counts", counts}, {"corpus_scenes", corpus_scenes}};
}

nlohmann::json generate(const WorldOptions& o, const std::string& out_dir) {
  // A-OKVQA draws scenes until one has two objects, and RefCOCO needs them.
  if (o.max_objects < 2)
    throw Error("world: max_objects = " + std::to_string(o.max_objects) + "; scenes need room for 2 objects");
  std::filesystem::create_directories(out_dir);
  Writer w(out_dir);
  Context c{o, w};
  auto coco = write_coco(c);
  write_cc(c);
  write_refcoco(c, coco.at("train2014"));
  write_vqacp(c, write_vqa(c, coco.at("train2014"), coco.at("val2014")));
  write_gqa(c);
  write_nlvr2(c);
  write_snli_ve(c);
  write_vcr(c);
  write_aokvqa(c);
  Rng corpus_rng = c.stream("corpus");
  std::string corpus;
  for (const auto& line : corpus_lines(corpus_rng, o.corpus_scenes)) corpus += line + "\n";
  w.write("corpus/world_corpus.txt", corpus);
  w.count("corpus", "all", "lines", int64_t(std::count(corpus.begin(), corpus.end(), '\n')));

  w.sync();
  nlohmann::json manifest = {{"generator", "smoes-world"}, {"version", kGeneratorVersion}, {"seed", o.seed},
                             {"preset", o.preset},         {"params", o.to_json()},       {"counts", o.counts},
                             {"datasets", w.counts()},     {"files", w.files()}};
  write_file_atomic((std::filesystem::path(out_dir) / "MANIFEST.json").string(), manifest.dump(1) + "\n");
  spdlog::info("world: wrote {} files to {}", w.files().size(), out_dir);
  return manifest;
}

}  // namespace smoes::world
