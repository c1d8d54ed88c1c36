// The two caption styles of the world:
//   COCO-like  several descriptive captions per image, varied templates and
//              synonyms, light human-like noise (dropped articles, typos)
//   CC-like    one short alt-text per image: hypernyms, other word order
// and the text-only corpus sentences (facts about materials etc.).
#pragma once
#include <string>
#include <vector>

#include "world/rng.h"
#include "world/scene.h"

namespace smoes::world {

std::vector<std::string> coco_captions(const Scene& scene, Rng& rng, int count = 5);
std::string alt_text(const Scene& scene, Rng& rng);
// World facts (the only place some knowledge appears) and scene descriptions.
std::vector<std::string> corpus_lines(Rng& rng, int scenes);

}  // namespace smoes::world
