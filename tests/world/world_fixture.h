// Shared by the world tests: one tiny world generated once per test binary,
// JSON helpers, the scene graphs the generator wrote (scenes/<dataset>/<split>.json),
// and an independent parser of the world's noun phrases.
#pragma once
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/files.h"
#include "world/generate.h"
#include "world/output.h"
#include "world/query.h"

namespace world_test {

namespace fs = std::filesystem;
using nlohmann::json;
using smoes::world::Filter;
using smoes::world::Ref;
using smoes::world::Scene;

inline std::string generate_tiny(const std::string& name, uint64_t seed, int threads = 0) {
  auto dir = (fs::temp_directory_path() / ("smoes_world_" + name)).string();
  fs::remove_all(dir);
  auto options = smoes::world::WorldOptions::for_preset("tiny", seed);
  options.threads = threads;
  smoes::world::generate(options, dir);
  return dir;
}

// The tiny world (seed 9) every dataset test reads; generated on first use.
inline const std::string& tiny_world() {
  static const std::string dir = generate_tiny("shared", 9);
  return dir;
}

inline json read_json(const std::string& path) { return json::parse(smoes::read_file(path)); }

inline std::vector<json> read_jsonl(const std::string& path) {
  std::vector<json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

// The scene of an image, by its path relative to the world root.
inline Scene scene_of(const std::string& root, const std::string& dataset, const std::string& split,
                      const std::string& image_rel) {
  static std::map<std::string, json> cache;
  const std::string file = root + "/scenes/" + dataset + "/" + split + ".json";
  if (!cache.count(file)) cache[file] = read_json(file);
  return smoes::world::scene_from_json(cache[file].at(image_rel));
}

inline std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// "small red wooden circle" / "red object" -> Filter; throws on an unknown word.
inline Filter parse_filter(const std::string& text) {
  Filter f;
  for (const auto& w : words(text)) {
    if (w == "the" || w == "a" || w == "an") continue;
    if (w == "small" || w == "large") f.size = w;
    else if (w == "wooden") f.material = "wood";
    else if (w == "metal" || w == "rubber" || w == "glass") f.material = w;
    else if (w == "circle" || w == "square" || w == "triangle" || w == "diamond") f.shape = w;
    else if (w == "object") continue;
    else if (w == "red" || w == "green" || w == "blue" || w == "yellow" || w == "purple" || w == "orange" ||
             w == "white" || w == "black")
      f.colour = w;
    else
      throw std::runtime_error("unknown word '" + w + "' in '" + text + "'");
  }
  return f;
}

// "leftmost red circle", "red circle left of the blue square", "the small circle" -> Ref.
inline Ref parse_ref(std::string text) {
  Ref ref;
  if (text.rfind("the ", 0) == 0) text = text.substr(4);
  for (const char* sup : {"leftmost", "rightmost", "topmost", "bottommost"})
    if (text.rfind(std::string(sup) + " ", 0) == 0) {
      ref.superlative = sup;
      ref.target = parse_filter(text.substr(std::string(sup).size() + 1));
      return ref;
    }
  for (const char* rel : {"left of", "right of", "above", "below"}) {
    auto at = text.find(std::string(" ") + rel + " the ");
    if (at != std::string::npos) {
      ref.relation = rel;
      ref.target = parse_filter(text.substr(0, at));
      ref.anchor = parse_filter(text.substr(at + std::string(rel).size() + 6));
      return ref;
    }
  }
  ref.target = parse_filter(text);
  return ref;
}

// Text between `prefix` and `suffix` (both must be there), e.g. the noun phrase of "What color is the X?".
inline bool between(const std::string& text, const std::string& prefix, const std::string& suffix, std::string& out) {
  if (text.rfind(prefix, 0) != 0 || text.size() < prefix.size() + suffix.size()) return false;
  if (text.compare(text.size() - suffix.size(), suffix.size(), suffix) != 0) return false;
  out = text.substr(prefix.size(), text.size() - prefix.size() - suffix.size());
  return true;
}

}  // namespace world_test
