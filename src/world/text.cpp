#include "world/text.h"

#include <cctype>
#include <map>

#include "world/knowledge.h"

namespace smoes::world {
namespace {

const std::vector<std::string>& synonyms(const std::string& shape) {
  static const std::map<std::string, std::vector<std::string>> table = {
      {"circle", {"circle", "ball", "disc", "round shape"}},
      {"square", {"square", "block", "box", "square shape"}},
      {"triangle", {"triangle", "wedge", "triangular shape"}},
      {"diamond", {"diamond", "rhombus", "diamond shape"}}};
  return table.at(shape);
}

std::string number_word(size_t n) {
  static const std::vector<std::string> words = {"no", "one", "two", "three", "four", "five", "six", "seven"};
  return n < words.size() ? words[n] : std::to_string(n);
}

std::string article(const std::string& next) {
  return std::string("aeiou").find(next[0]) != std::string::npos ? "an" : "a";
}

std::string noun_phrase(const Object& o, Rng& rng, bool with_size, bool with_material) {
  std::string p;
  if (with_size) p += o.size + " ";
  p += o.colour + " ";
  if (with_material) p += o.material + " ";
  p += rng.pick(synonyms(o.shape));
  return article(p) + " " + p;
}

// Annotators' noise: sometimes a capital, a full stop, a dropped article or swapped letters.
std::string humanise(std::string s, Rng& rng) {
  if (rng.chance(0.15) && s.rfind("a ", 0) == 0) s = s.substr(2);
  if (rng.chance(0.03) && s.size() > 6) {
    size_t i = 1 + size_t(rng.below(int64_t(s.size()) - 3));
    if (std::isalpha((unsigned char)s[i]) && std::isalpha((unsigned char)s[i + 1])) std::swap(s[i], s[i + 1]);
  }
  if (rng.chance(0.5)) s[0] = char(std::toupper((unsigned char)s[0]));
  if (rng.chance(0.6)) s += ".";
  return s;
}

std::string describe(const Scene& s, Rng& rng) {
  const auto& a = s.objects[rng.below(int64_t(s.objects.size()))];
  switch (s.objects.size() == 1 ? int(rng.below(2)) : int(rng.below(5))) {
    case 0: return noun_phrase(a, rng, true, rng.chance(0.5)) + " on " + article(s.background) + " " + s.background + " background";
    case 1: return "there is " + noun_phrase(a, rng, rng.chance(0.5), true) + " in the picture";
    case 2: return number_word(s.objects.size()) + " shapes on " + article(s.background) + " " + s.background + " background";
    default: {
      const Object* b = &s.objects[rng.below(int64_t(s.objects.size()))];
      if (b == &a) b = &s.objects[(&a - s.objects.data() + 1) % s.objects.size()];
      return noun_phrase(a, rng, rng.chance(0.5), false) + " " + relation(a, *b) + " " + noun_phrase(*b, rng, false, false);
    }
  }
}

}  // namespace

std::vector<std::string> coco_captions(const Scene& scene, Rng& rng, int count) {
  std::vector<std::string> out;
  for (int i = 0; i < count; ++i) out.push_back(humanise(describe(scene, rng), rng));
  return out;
}

std::string alt_text(const Scene& scene, Rng& rng) {
  const auto& o = scene.objects[0];
  static const std::vector<std::string> hypernyms = {"geometric shape", "figure", "symbol", "icon"};
  switch (rng.below(4)) {
    case 0: return o.colour + " " + rng.pick(hypernyms) + " vector illustration";
    case 1: return "clipart of " + number_word(scene.objects.size()) + " " + rng.pick(hypernyms) + "s";
    case 2: return o.shape + " icon, " + o.colour + ", flat design";
    default: return "simple " + o.colour + " " + o.shape + " drawing isolated on white";
  }
}

std::vector<std::string> corpus_lines(Rng& rng, int scenes) {
  // Every world fact first, then general statements, then scene descriptions
  // with a fact repeated every 20 lines so the facts recur through the text.
  const std::vector<std::string> facts = fact_sentences();
  std::vector<std::string> lines = facts;
  for (const char* line : {"A square has four equal sides and four corners; a triangle has three sides.",
                           "A circle has no corners; a diamond is a square turned on its corner.",
                           "Things on the left of a picture are closer to its left edge than to its right edge."})
    lines.push_back(line);
  for (int i = 0; i < scenes; ++i) {
    if (i % 20 == 19) lines.push_back(rng.pick(facts));
    // The corpus is text only: its scenes keep the full 1-6 objects whatever the preset.
    Scene s = sample_scene(rng, 64, "photo", "any", 6);
    lines.push_back(coco_captions(s, rng, 1)[0]);
  }
  return lines;
}

}  // namespace smoes::world
