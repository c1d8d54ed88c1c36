// Text-only fact QA on the world's knowledge (src/world/knowledge.h): "Which
// material would float on water, wood or metal?". The facts are stated only in
// the world corpus, so this measures the language ability a model keeps (or
// loses) through multimodal training, as the paper's text-only benchmarks do.
// It is an evaluation task: it has no files and must never be in a mixture.
#pragma once
#include <string>
#include <vector>

#include "data/example.h"

namespace smoes::tasks {

// Every (material that has the property, material that has not) pair of every
// property, asked once in each order (so always answering the first choice
// scores 0.5). The same questions for every split.
std::vector<data::Example> fact_qa_examples();

}  // namespace smoes::tasks
