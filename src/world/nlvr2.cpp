// NLVR2: statements about a pair of images, true or false. As in NLVR2 a set
// has several image pairs (4) sharing its sentences (here 2 per set), and
// every sentence is true for some pairs of its set and false for others, so
// consistency (all pairs of a sentence right) is meaningful. Identifiers are
// "<split>-<set>-<pair>-<sentence>"; images
// images/<split>/<split>-<set>-<pair>-img0.png (left) and -img1.png (right).
#include <algorithm>
#include <functional>

#include "world/datasets.h"
#include "world/query.h"

namespace smoes::world {

namespace {

constexpr int kPairs = 4, kSentences = 2;

struct Pair {
  Scene left, right;
};

// A statement and its truth for a pair; nullopt when a relation is borderline.
struct Statement {
  std::string text;
  std::function<std::optional<bool>(const Pair&)> truth;
};

std::string count_phrase(int n, const Filter& f) { return number_word(n) + " " + (n == 1 ? f.noun() : f.nouns()); }

Filter pair_filter(const Pair& p, Rng& rng) {
  const Scene& s = rng.chance(0.5) ? p.left : p.right;
  const Object& o = s.objects[rng.below(int64_t(s.objects.size()))];
  Filter f;
  switch (rng.below(4)) {
    case 0: f.shape = o.shape; break;
    case 1: f.colour = o.colour; break;
    case 2: f.colour = o.colour, f.shape = o.shape; break;
    default: f.material = o.material, f.shape = o.shape;
  }
  return f;
}

// Whether some object matching a is `rel` of some object matching b: true when
// a clear instance exists, false when not even a loose one does, else unknown.
std::optional<bool> related(const Scene& s, const Filter& a, const std::string& rel, const Filter& b) {
  bool loose = false;
  for (int i : select(s, a))
    for (int j : select(s, b)) {
      if (i == j) continue;
      if (clear_relation(s.objects[i], s.objects[j]) == rel) return true;
      loose = loose || loosely(s.objects[i], rel, s.objects[j]);
    }
  if (loose) return std::nullopt;
  return false;
}

Statement make_statement(const Pair& p, Rng& rng) {
  const Filter f = pair_filter(p, rng);
  const bool left = rng.chance(0.5);
  const std::string side = left ? "left" : "right";
  switch (rng.below(9)) {
    case 0: {
      const int n = count(left ? p.left : p.right, f) + int(rng.below(2));
      return {"The " + side + " image contains exactly " + count_phrase(std::max(n, 1), f) + ".",
              [=](const Pair& q) { return count(left ? q.left : q.right, f) == std::max(n, 1); }};
    }
    case 1: return {"Both images contain " + with_article(f.noun()) + ".",
                    [=](const Pair& q) { return count(q.left, f) > 0 && count(q.right, f) > 0; }};
    case 2: return {"There are more " + f.nouns() + " in the left image than in the right image.",
                    [=](const Pair& q) { return count(q.left, f) > count(q.right, f); }};
    case 3: return {"Exactly one image contains " + with_article(f.noun()) + ".",
                    [=](const Pair& q) { return (count(q.left, f) > 0) != (count(q.right, f) > 0); }};
    case 4: {
      const int n = count(p.left, f) + count(p.right, f);
      return {"There are " + count_phrase(std::max(n, 1), f) + " in total in the two images.",
              [=](const Pair& q) { return count(q.left, f) + count(q.right, f) == std::max(n, 1); }};
    }
    case 5: return {"Neither image contains " + with_article(f.noun()) + ".",
                    [=](const Pair& q) { return count(q.left, f) == 0 && count(q.right, f) == 0; }};
    case 6: {
      const int n = 2 + int(rng.below(3));
      return {"Each image contains at most " + number_word(n) + " objects.",
              [=](const Pair& q) { return int(q.left.objects.size()) <= n && int(q.right.objects.size()) <= n; }};
    }
    case 7: return {"The left image has more objects than the right image.",
                    [](const Pair& q) { return q.left.objects.size() > q.right.objects.size(); }};
    default: {
      const Filter g = pair_filter(p, rng);
      const std::string rel = rng.pick(relations());
      return {"In at least one image, " + with_article(f.noun()) + " is " + rel + " " + with_article(g.noun()) + ".",
              [=](const Pair& q) -> std::optional<bool> {
                auto l = related(q.left, f, rel, g), r = related(q.right, f, rel, g);
                if ((l && *l) || (r && *r)) return true;
                if (!l || !r) return std::nullopt;
                return false;
              }};
    }
  }
}

// Labels of a statement over the set's pairs; empty when one is undecidable.
std::vector<bool> labels(const Statement& st, const std::vector<Pair>& pairs) {
  std::vector<bool> out;
  for (const auto& p : pairs) {
    auto t = st.truth(p);
    if (!t) return {};
    out.push_back(*t);
  }
  return out;
}

void write_split(const Context& c, const std::string& split, const std::string& kind) {
  Rng rng = c.stream("nlvr2/" + split);
  const int sets = c.count("nlvr2_" + split);
  std::vector<ImageJob> jobs;
  std::vector<nlohmann::json> lines;
  int64_t trues = 0;
  for (int set = 0; set < sets; ++set) {
    std::vector<Pair> pairs;
    for (int k = 0; k < kPairs; ++k) {
      Pair p{sample_scene(rng, c.options.image_size, "photo", kind, c.options.max_objects), sample_scene(rng, c.options.image_size, "photo", kind, c.options.max_objects)};
      const std::string prefix = split + "-" + std::to_string(set) + "-" + std::to_string(k);
      add_image(jobs, "nlvr2/images/" + split + "/" + prefix + "-img0.png", p.left, rng);
      add_image(jobs, "nlvr2/images/" + split + "/" + prefix + "-img1.png", p.right, rng);
      pairs.push_back(p);
    }
    // Sentences written for the set: true for some pairs and false for others (a
    // one-sided statement only when 60 tries found no mixed one).
    std::vector<std::pair<std::string, std::vector<bool>>> chosen, fallback;
    for (int tries = 0; tries < 60 && int(chosen.size()) < kSentences; ++tries) {
      Statement st = make_statement(pairs[rng.below(kPairs)], rng);
      auto l = labels(st, pairs);
      if (l.empty()) continue;
      bool dup = false;
      for (const auto& ch : chosen) dup = dup || ch.first == st.text;
      if (dup) continue;
      const int t = int(std::count(l.begin(), l.end(), true));
      (t > 0 && t < kPairs ? chosen : fallback).push_back({st.text, l});
    }
    for (size_t k = 0; int(chosen.size()) < kSentences && k < fallback.size(); ++k) chosen.push_back(fallback[k]);
    for (size_t sent = 0; sent < chosen.size(); ++sent)
      for (int k = 0; k < kPairs; ++k) {
        const std::string prefix = split + "-" + std::to_string(set) + "-" + std::to_string(k);
        trues += chosen[sent].second[k];
        lines.push_back({{"identifier", prefix + "-" + std::to_string(sent)},
                         {"sentence", chosen[sent].first},
                         {"label", chosen[sent].second[k] ? "True" : "False"},
                         {"left_url", "images/" + split + "/" + prefix + "-img0.png"},
                         {"right_url", "images/" + split + "/" + prefix + "-img1.png"},
                         {"synset", "shapes"}});
      }
  }
  c.render(jobs, "nlvr2", split);
  c.writer.write_jsonl("nlvr2/" + split + ".json", lines);
  c.writer.count("nlvr2", split, "sets", sets);
  c.writer.count("nlvr2", split, "statements", int64_t(lines.size()));
  c.writer.count("nlvr2", split, "true", trues);
}

}  // namespace

void write_nlvr2(const Context& c) {
  write_split(c, "train", "train");
  write_split(c, "dev", "any");
  write_split(c, "test1", "any");
}

}  // namespace smoes::world
