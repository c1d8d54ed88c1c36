// `smoes world generate`: writes the embedded world as real dataset files.
// Implemented so far: COCO Captions (photo domain, COCO-style captions,
// train2014 without held-out shape/colour pairs, val2014 drawn freely, and
// heldout2014 where every image has one), Conceptual-Captions TSV (clip-art
// domain, alt-text style), the text corpus, and MANIFEST.json.
#pragma once
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace smoes::world {

struct WorldOptions {
  std::string preset = "tiny";  // tiny | quick | full
  uint64_t seed = 1;
  int image_size = 64;
  // Images per split, filled from the preset by `for_preset`.
  std::map<std::string, int> counts;
  int corpus_scenes = 0;

  static WorldOptions for_preset(const std::string& preset, uint64_t seed);
  nlohmann::json to_json() const;
};

// Writes everything under `out_dir` (created if missing) and returns the
// manifest it wrote to out_dir/MANIFEST.json.
nlohmann::json generate(const WorldOptions& options, const std::string& out_dir);

}  // namespace smoes::world
