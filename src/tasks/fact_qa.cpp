#include "tasks/fact_qa.h"

#include "world/knowledge.h"
#include "world/scene.h"

namespace smoes::tasks {

std::vector<data::Example> fact_qa_examples() {
  std::vector<data::Example> out;
  for (const auto& p : world::properties())
    for (const auto& yes : p.materials)
      for (const auto& no : world::Vocabulary::materials()) {
        if (world::has_property(no, p)) continue;
        for (int order = 0; order < 2; ++order) {
          data::Example ex;
          ex.task = "fact_qa";
          ex.id = p.name + "/" + yes + "/" + no + "/" + std::to_string(order);
          ex.choices = order == 0 ? std::vector<std::string>{yes, no} : std::vector<std::string>{no, yes};
          ex.answer_index = order;
          ex.targets = {yes};
          ex.prompt = "Question: Which material " + p.clause + ", " + ex.choices[0] + " or " + ex.choices[1] +
                      "? Answer with one word.";
          out.push_back(std::move(ex));
        }
      }
  return out;
}

}  // namespace smoes::tasks
