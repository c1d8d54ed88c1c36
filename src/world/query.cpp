#include "world/query.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "core/error.h"

namespace smoes::world {

namespace {

std::string adjective(const std::string& material) { return material == "wood" ? "wooden" : material; }

// Subsets of the attributes other than shape (and `without`), fewest first.
std::vector<std::vector<std::string>> attribute_subsets(const std::string& without) {
  std::vector<std::string> pool;
  for (const char* a : {"colour", "size", "material"})
    if (a != without) pool.push_back(a);
  std::vector<std::vector<std::string>> out;
  for (size_t k = 0; k <= pool.size(); ++k)
    for (unsigned mask = 0; mask < (1u << pool.size()); ++mask) {
      if (size_t(__builtin_popcount(mask)) != k) continue;
      std::vector<std::string> subset;
      for (size_t b = 0; b < pool.size(); ++b)
        if (mask & (1u << b)) subset.push_back(pool[b]);
      out.push_back(subset);
    }
  return out;
}

Filter restrict(const Object& o, const std::vector<std::string>& subset, const std::string& without) {
  Filter f;
  if (without != "shape") f.shape = o.shape;
  for (const auto& a : subset) f.at(a) = attribute_of(o, a);
  return f;
}

}  // namespace

bool Filter::matches(const Object& o) const {
  return (size.empty() || size == o.size) && (colour.empty() || colour == o.colour) &&
         (material.empty() || material == o.material) && (shape.empty() || shape == o.shape);
}

std::string Filter::noun() const {
  std::string p;
  if (!size.empty()) p += size + " ";
  if (!colour.empty()) p += colour + " ";
  if (!material.empty()) p += adjective(material) + " ";
  return p + (shape.empty() ? "object" : shape);
}

std::string Filter::nouns() const {
  Filter f = *this;
  f.shape.clear();
  std::string p = f.noun();
  p.resize(p.size() - std::string("object").size());
  return p + (shape.empty() ? "objects" : plural(shape));
}

Filter Filter::of(const Object& o) { return {o.size, o.colour, o.material, o.shape}; }

std::string& Filter::at(const std::string& a) {
  if (a == "size") return size;
  if (a == "colour") return colour;
  if (a == "material") return material;
  if (a == "shape") return shape;
  throw Error("world: unknown attribute '" + a + "'");
}

const std::string& Filter::at(const std::string& a) const { return const_cast<Filter*>(this)->at(a); }

const std::vector<std::string>& attributes() {
  static const std::vector<std::string> v = {"size", "colour", "material", "shape"};
  return v;
}

std::string attribute_of(const Object& o, const std::string& a) { return Filter::of(o).at(a); }

const std::vector<std::string>& values_of(const std::string& a) {
  static const std::vector<std::string> sizes = {"small", "large"};
  if (a == "size") return sizes;
  if (a == "colour") return Vocabulary::colours();
  if (a == "material") return Vocabulary::materials();
  if (a == "shape") return Vocabulary::shapes();
  throw Error("world: unknown attribute '" + a + "'");
}

std::string plural(const std::string& shape) { return shape + "s"; }

std::string with_article(const std::string& noun) {
  return (std::string("aeiou").find(noun[0]) != std::string::npos ? "an " : "a ") + noun;
}

std::vector<int> select(const Scene& s, const Filter& f) {
  std::vector<int> out;
  for (size_t i = 0; i < s.objects.size(); ++i)
    if (f.matches(s.objects[i])) out.push_back(int(i));
  return out;
}

int count(const Scene& s, const Filter& f) { return int(select(s, f).size()); }

const std::vector<std::string>& relations() {
  static const std::vector<std::string> v = {"left of", "right of", "above", "below"};
  return v;
}

std::string clear_relation(const Object& a, const Object& b) {
  const double dx = a.cx - b.cx, dy = a.cy - b.cy, ax = std::abs(dx), ay = std::abs(dy);
  if (std::max(ax, ay) < 4) return "";
  if (ax >= 1.5 * ay) return dx < 0 ? "left of" : "right of";
  if (ay >= 1.5 * ax) return dy < 0 ? "above" : "below";
  return "";
}

bool loosely(const Object& a, const std::string& r, const Object& b) {
  if (r == "left of") return a.cx < b.cx;
  if (r == "right of") return a.cx > b.cx;
  if (r == "above") return a.cy < b.cy;
  if (r == "below") return a.cy > b.cy;
  throw Error("world: unknown relation '" + r + "'");
}

std::string Ref::text() const {
  if (!superlative.empty()) return superlative + " " + target.noun();
  if (!relation.empty()) return target.noun() + " " + relation + " the " + anchor.noun();
  return target.noun();
}

namespace {

// Position along a superlative's axis, smaller = more extreme.
double key(const Object& o, const std::string& superlative) {
  if (superlative == "leftmost") return o.cx;
  if (superlative == "rightmost") return -o.cx;
  if (superlative == "topmost") return o.cy;
  if (superlative == "bottommost") return -o.cy;
  throw Error("world: unknown superlative '" + superlative + "'");
}

constexpr double kMargin = 3.0;  // pixels by which a superlative's winner must lead

}  // namespace

std::vector<int> resolve(const Scene& s, const Ref& ref) {
  auto matches = select(s, ref.target);
  if (!ref.superlative.empty()) {
    if (matches.empty()) return {};
    std::sort(matches.begin(), matches.end(), [&](int a, int b) {
      return key(s.objects[a], ref.superlative) < key(s.objects[b], ref.superlative);
    });
    std::vector<int> out = {matches[0]};  // every object within the margin of the winner is a candidate
    for (size_t k = 1; k < matches.size(); ++k)
      if (key(s.objects[matches[k]], ref.superlative) - key(s.objects[matches[0]], ref.superlative) < kMargin)
        out.push_back(matches[k]);
    return out;
  }
  if (ref.relation.empty()) return matches;
  std::vector<int> out;
  for (int a : select(s, ref.anchor))
    for (int k : matches)
      if (k != a && loosely(s.objects[k], ref.relation, s.objects[a]) &&
          std::find(out.begin(), out.end(), k) == out.end())
        out.push_back(k);
  if (count(s, ref.anchor) != 1) out.push_back(-1);  // an ambiguous anchor makes the whole reference ambiguous
  return out;
}

std::vector<Filter> unique_filters(const Scene& s, int i, const std::string& without) {
  std::vector<Filter> out;
  size_t found_size = 99;
  for (const auto& subset : attribute_subsets(without)) {
    if (subset.size() > found_size) break;
    Filter f = restrict(s.objects[i], subset, without);
    if (count(s, f) == 1) {
      out.push_back(f);
      found_size = subset.size();
    }
  }
  return out;
}

std::optional<Ref> relational_ref(const Scene& s, int i, Rng& rng, const std::string& without) {
  std::vector<Ref> options;
  for (size_t j = 0; j < s.objects.size(); ++j) {
    if (int(j) == i) continue;
    const std::string rel = clear_relation(s.objects[i], s.objects[j]);
    if (rel.empty()) continue;
    auto anchors = unique_filters(s, int(j));
    if (anchors.empty()) continue;
    for (const auto& subset : attribute_subsets(without)) {
      Ref ref{restrict(s.objects[i], subset, without), rel, anchors[0], ""};
      if (resolve(s, ref) == std::vector<int>{i}) {
        options.push_back(ref);
        break;
      }
    }
  }
  if (options.empty()) return std::nullopt;
  return options[rng.below(int64_t(options.size()))];
}

std::optional<Ref> superlative_ref(const Scene& s, int i) {
  for (const auto& subset : attribute_subsets("")) {
    Filter f = restrict(s.objects[i], subset, "");
    if (count(s, f) < 2) continue;
    for (const char* sup : {"leftmost", "rightmost", "topmost", "bottommost"}) {
      Ref ref{f, "", {}, sup};
      if (resolve(s, ref) == std::vector<int>{i}) return ref;
    }
  }
  return std::nullopt;
}

std::optional<Ref> refer_to(const Scene& s, int i, Rng& rng, const std::string& without) {
  auto filters = unique_filters(s, i, without);
  if (!filters.empty()) {
    Ref ref{filters[rng.below(int64_t(filters.size()))], "", {}, ""};
    if (rng.chance(0.25)) {  // annotators often add a redundant attribute
      std::vector<std::string> extra;
      for (const char* a : {"size", "colour", "material"})
        if (a != without && ref.target.at(a).empty()) extra.push_back(a);
      if (!extra.empty()) {
        const auto& a = rng.pick(extra);
        ref.target.at(a) = attribute_of(s.objects[i], a);
      }
    }
    return ref;
  }
  if (auto ref = relational_ref(s, i, rng, without)) return ref;
  if (without.empty()) return superlative_ref(s, i);
  return std::nullopt;
}

std::string number_word(int n) {
  static const std::vector<std::string> words = {"zero", "one", "two", "three", "four", "five", "six", "seven"};
  return n >= 0 && n < int(words.size()) ? words[n] : std::to_string(n);
}

std::vector<std::string> word_tokens(const std::string& sentence) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : sentence) {
    if (std::isalnum((unsigned char)c)) {
      cur += char(std::tolower((unsigned char)c));
    } else if (!cur.empty()) {
      out.push_back(cur);
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

}  // namespace smoes::world
