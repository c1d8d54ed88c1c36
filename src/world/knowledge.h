// World knowledge that no image shows: what each material does (floats,
// is attracted by a magnet, burns, ...). These facts are stated ONLY in the
// text corpus (corpus/world_corpus.txt); captions, VQA, GQA, VCR, NLVR2 and
// SNLI-VE never state them, and A-OKVQA questions need them together with
// the material an image shows.
#pragma once
#include <string>
#include <vector>

namespace smoes::world {

struct Property {
  std::string name;                    // "floats", "magnetic", ...
  std::string clause;                  // "would float on water" (after "which object in the image")
  std::vector<std::string> materials;  // the materials that have it
  std::vector<std::string> facts;      // corpus sentences stating it (and who lacks it)
  bool held_out = false;               // asked only in A-OKVQA val (never in train)
};

const std::vector<Property>& properties();
const Property& property(const std::string& name);
bool has_property(const std::string& material, const Property& p);
// Every fact sentence of every property, in a fixed order.
std::vector<std::string> fact_sentences();

}  // namespace smoes::world
