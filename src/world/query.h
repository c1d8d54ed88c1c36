// Questions about a scene, answered from its scene graph: attribute filters,
// counting, unambiguous references to one object (attributes, a spatial
// relation to an anchor, or a superlative), and their English phrases. Every
// dataset builds its text from these, so answers are correct by construction.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "world/rng.h"
#include "world/scene.h"

namespace smoes::world {

// Objects whose given attributes match (empty attribute = any).
struct Filter {
  std::string size, colour, material, shape;

  bool matches(const Object& o) const;
  // "small red rubber circle"; "red object" without a shape.
  std::string noun() const;
  // Plural: "red circles", "objects".
  std::string nouns() const;
  static Filter of(const Object& o);  // every attribute of o
  // The value of attribute "size" | "colour" | "material" | "shape".
  std::string& at(const std::string& attribute);
  const std::string& at(const std::string& attribute) const;
};

const std::vector<std::string>& attributes();  // size, colour, material, shape
std::string attribute_of(const Object& o, const std::string& attribute);
// Every value an attribute can take.
const std::vector<std::string>& values_of(const std::string& attribute);
std::string plural(const std::string& shape);  // "circles"
std::string with_article(const std::string& noun);  // "a red circle", "an orange square"

std::vector<int> select(const Scene& s, const Filter& f);
int count(const Scene& s, const Filter& f);

// Relations are used only where they are clear: `clear_relation` is "" when
// the dominant axis is not clearly dominant or the objects are too close.
std::string clear_relation(const Object& a, const Object& b);
// Whether a is on that side of b at all (on either axis): what an unambiguous
// reference has to rule out for every other candidate.
bool loosely(const Object& a, const std::string& relation, const Object& b);
const std::vector<std::string>& relations();  // left of, right of, above, below

// A reference to one object: `target`, optionally `relation` to the object
// `anchor` picks out, or a superlative ("leftmost", ...) among `target`'s matches.
struct Ref {
  Filter target;
  std::string relation;  // "" or one of relations()
  Filter anchor;
  std::string superlative;  // "" or leftmost / rightmost / topmost / bottommost
  // "small red circle left of the blue square", "leftmost circle" (no article).
  std::string text() const;
};

// The objects `ref` picks out (exactly one when it is unambiguous).
std::vector<int> resolve(const Scene& s, const Ref& ref);

// The attribute-only references that pick out object i alone, fewest
// attributes first (shape always named unless `without` is "shape"; the
// attribute `without` is never used). Empty when i has an identical twin.
std::vector<Filter> unique_filters(const Scene& s, int i, const std::string& without = "");
// A reference for object i: attributes when they suffice (sometimes with an
// extra, redundant attribute), else a relation to an uniquely named anchor,
// else a superlative. nullopt when nothing picks i out.
std::optional<Ref> refer_to(const Scene& s, int i, Rng& rng, const std::string& without = "");
// Relation-based and superlative references (for variety); nullopt when none is unambiguous.
std::optional<Ref> relational_ref(const Scene& s, int i, Rng& rng, const std::string& without = "");
std::optional<Ref> superlative_ref(const Scene& s, int i);

// "one", "two", ...
std::string number_word(int n);

// Whitespace/punctuation tokens of a sentence, lower-cased, punctuation dropped (RefCOCO style).
std::vector<std::string> word_tokens(const std::string& sentence);

}  // namespace smoes::world
