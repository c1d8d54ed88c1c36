#include "world/generate.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <functional>

#include "core/error.h"
#include "core/files.h"
#include "core/log.h"
#include "world/render.h"
#include "world/scene.h"
#include "world/text.h"

namespace smoes::world {

constexpr const char* kGeneratorVersion = "0.1.0";

WorldOptions WorldOptions::for_preset(const std::string& preset, uint64_t seed) {
  WorldOptions o;
  o.preset = preset;
  o.seed = seed;
  if (preset == "tiny") {
    o.counts = {{"coco_train2014", 24}, {"coco_val2014", 8}, {"coco_heldout2014", 8}, {"cc_train", 16}, {"cc_val", 8}};
    o.corpus_scenes = 50;
  } else if (preset == "quick") {
    o.counts = {{"coco_train2014", 3000}, {"coco_val2014", 300}, {"coco_heldout2014", 300}, {"cc_train", 1500}, {"cc_val", 300}};
    o.corpus_scenes = 5000;
  } else if (preset == "full") {
    o.counts = {{"coco_train2014", 20000}, {"coco_val2014", 2000}, {"coco_heldout2014", 2000}, {"cc_train", 10000}, {"cc_val", 2000}};
    o.corpus_scenes = 50000;
  } else {
    throw Error("world: unknown preset '" + preset + "' (expected tiny, quick or full)");
  }
  return o;
}

nlohmann::json WorldOptions::to_json() const {
  return {{"preset", preset}, {"seed", seed}, {"image_size", image_size}, {"counts", counts}, {"corpus_scenes", corpus_scenes}};
}

namespace {

// Collects written files so the manifest can list their hashes.
class Writer {
 public:
  explicit Writer(std::string root) : root_(std::move(root)) {}
  void write(const std::string& rel, const std::string& bytes) {
    write_file_atomic((std::filesystem::path(root_) / rel).string(), bytes);
    files_[rel] = sha256_hex(bytes);
  }
  const std::map<std::string, std::string>& files() const { return files_; }

 private:
  std::string root_;
  std::map<std::string, std::string> files_;
};

std::string image_name(const char* pattern, int64_t id) {
  char buf[128];
  std::snprintf(buf, sizeof buf, pattern, static_cast<long long>(id));
  return buf;
}

void each_image(const std::string& label, int n, const std::function<void(int)>& f) {
  Progress progress(label, n);
  for (int i = 0; i < n; ++i) {
    f(i);
    progress.update(i + 1);
  }
  progress.finish();
}

// COCO captions: images/<split>/COCO_<split>_%012d.png + annotations/captions_<split>.json
int64_t write_coco_split(Writer& w, const WorldOptions& o, const std::string& split, const std::string& kind,
                         int n, int64_t first_id, int64_t& next_ann) {
  Rng rng = Rng(o.seed).fork("coco/" + split);
  nlohmann::json images = nlohmann::json::array(), anns = nlohmann::json::array();
  each_image("coco " + split, n, [&](int i) {
    const int64_t id = first_id + i;
    Scene scene = sample_scene(rng, o.image_size, "photo", kind);
    std::string file = image_name(("COCO_" + split + "_%012lld.png").c_str(), id);
    w.write("coco/images/" + split + "/" + file, encode_png(render(scene, rng), scene.width, scene.height));
    images.push_back({{"id", id}, {"file_name", file}, {"width", scene.width}, {"height", scene.height}});
    for (const auto& caption : coco_captions(scene, rng))
      anns.push_back({{"id", next_ann++}, {"image_id", id}, {"caption", caption}});
  });
  nlohmann::json doc = {{"info", {{"description", "smoes world: COCO-style captions"}, {"version", kGeneratorVersion}}},
                        {"licenses", nlohmann::json::array()},
                        {"images", images},
                        {"annotations", anns}};
  w.write("coco/annotations/captions_" + split + ".json", doc.dump());
  return first_id + n;
}

// Conceptual Captions: "caption<TAB>url" per line; the url is the image's path relative to cc/.
void write_cc_split(Writer& w, const WorldOptions& o, const std::string& split, const std::string& tsv, int n) {
  Rng rng = Rng(o.seed).fork("cc/" + split);
  std::string lines;
  each_image("cc " + split, n, [&](int i) {
    Scene scene = sample_scene(rng, o.image_size, "clipart", "any");
    std::string rel = "images/" + split + "/" + image_name("%08lld.png", i);
    w.write("cc/" + rel, encode_png(render(scene, rng), scene.width, scene.height));
    lines += alt_text(scene, rng) + "\t" + rel + "\n";
  });
  w.write("cc/" + tsv, lines);
}

}  // namespace

nlohmann::json generate(const WorldOptions& o, const std::string& out_dir) {
  std::filesystem::create_directories(out_dir);
  Writer w(out_dir);
  int64_t next_image = 1, next_ann = 1;
  for (auto [split, kind] : {std::pair{"train2014", "train"}, {"val2014", "any"}, {"heldout2014", "heldout"}})
    next_image = write_coco_split(w, o, split, kind, o.counts.at(std::string("coco_") + split), next_image, next_ann);
  write_cc_split(w, o, "train", "Train_GCC-training.tsv", o.counts.at("cc_train"));
  write_cc_split(w, o, "val", "Validation_GCC-1.1.0-Validation.tsv", o.counts.at("cc_val"));
  Rng corpus_rng = Rng(o.seed).fork("corpus");
  std::string corpus;
  for (const auto& line : corpus_lines(corpus_rng, o.corpus_scenes)) corpus += line + "\n";
  w.write("corpus/world_corpus.txt", corpus);

  nlohmann::json manifest = {{"generator", "smoes-world"}, {"version", kGeneratorVersion}, {"seed", o.seed},
                             {"preset", o.preset},         {"params", o.to_json()},       {"counts", o.counts},
                             {"files", w.files()}};
  write_file_atomic((std::filesystem::path(out_dir) / "MANIFEST.json").string(), manifest.dump(1) + "\n");
  spdlog::info("world: wrote {} files to {}", w.files().size(), out_dir);
  return manifest;
}

}  // namespace smoes::world
