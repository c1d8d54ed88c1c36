// The five research questions of METHOD.md section 5, as roles a spec fills
// with its models ("questions" in configs/study/grid/*.json):
//   rq1: pretrained, frozen, full, smoes (models); caption_task, grounding_task, text_task
//   rq2: standard and smoes, each {caption, caption_to_grounding, grounding,
//        grounding_to_caption}; caption_task, grounding_task
//   rq3: methods {label: model}; id_tasks, ood_tasks
//   rq4: equal_active {E: model}, equal_total {E: model}; id_task, ood_task
//   rq5: fixed {label: model}, dynamic_on {label: model}, methods (smoes skip
//        methods), ratio, tasks
// and the measurements each role needs (docs/STUDY.md says what each number is).
#pragma once
#include <string>
#include <vector>

#include "study/step.h"

namespace smoes::study {

struct StudySpec;

extern const std::vector<std::string> kQuestions;  // rq1 .. rq5

struct Need {
  std::string model;
  Step step;
};

// Throws naming the spec, question and field when a role is missing or names
// an undeclared model.
void validate_questions(const StudySpec& spec);
// Every measurement the spec's questions need, by model.
std::vector<Need> needs(const StudySpec& spec);

}  // namespace smoes::study
