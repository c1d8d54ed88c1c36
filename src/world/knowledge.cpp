#include "world/knowledge.h"

#include <algorithm>

#include "core/error.h"

namespace smoes::world {

const std::vector<Property>& properties() {
  static const std::vector<Property> table = {
      {"floats",
       "would float on water",
       {"wood", "rubber"},
       {"Wood floats on water because it is lighter than water.", "Rubber floats on water too.",
        "A wooden or rubber object floats when you drop it into water.",
        "Metal sinks in water; a metal object is heavy and cold to the touch.", "Glass sinks to the bottom of water."},
       false},
      {"magnetic",
       "could be picked up with a magnet",
       {"metal"},
       {"A magnet attracts metal objects and can pick them up.",
        "Magnets do not attract wood, glass or rubber, so a magnet cannot pick those up."},
       false},
      {"burns",
       "would burn in a fire",
       {"wood"},
       {"Wood burns in a fire.", "Metal, glass and rubber objects do not burn in a fire; only wooden things burn."},
       false},
      {"bounces",
       "would bounce if it were dropped on the floor",
       {"rubber"},
       {"Rubber is soft and bouncy; a rubber ball bounces when it hits the floor.",
        "Wood, metal and glass do not bounce; only rubber objects bounce."},
       false},
      {"conducts",
       "would conduct electricity",
       {"metal"},
       {"Metal conducts electricity.", "Wood, glass and rubber do not conduct electricity; they are insulators."},
       true},
      {"fragile",
       "would break if it fell on a hard floor",
       {"glass"},
       {"Glass is transparent, so you can see through a glass object, and it breaks easily.",
        "A glass object shatters when it falls on a hard floor, while wood, metal and rubber do not break."},
       true},
  };
  return table;
}

const Property& property(const std::string& name) {
  for (const auto& p : properties())
    if (p.name == name) return p;
  throw Error("world: unknown property '" + name + "'");
}

bool has_property(const std::string& material, const Property& p) {
  return std::find(p.materials.begin(), p.materials.end(), material) != p.materials.end();
}

std::vector<std::string> fact_sentences() {
  std::vector<std::string> out;
  for (const auto& p : properties()) out.insert(out.end(), p.facts.begin(), p.facts.end());
  return out;
}

}  // namespace smoes::world
