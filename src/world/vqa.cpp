// VQA v2 over the COCO train2014 / val2014 images: three questions per image
// from the scene graph, ten simulated annotator answers each.
#include "world/answers.h"
#include "world/datasets.h"
#include "world/query.h"

namespace smoes::world {

namespace {

struct Question {
  std::string text, type, answer, answer_type;
};

std::string yes_no(bool b) { return b ? "yes" : "no"; }

// A filter that a question asks about: usually from an object in the scene,
// sometimes random values (so counts of 0 and "no" answers occur).
Filter some_filter(const Scene& s, Rng& rng) {
  Filter f;
  const bool from_scene = rng.chance(0.6);
  const Object& o = s.objects[rng.below(int64_t(s.objects.size()))];
  switch (rng.below(4)) {
    case 0: f.shape = from_scene ? o.shape : rng.pick(Vocabulary::shapes()); break;
    case 1: f.colour = from_scene ? o.colour : rng.pick(Vocabulary::colours()); break;
    case 2: f.material = from_scene ? o.material : rng.pick(Vocabulary::materials()); break;
    default:
      f.colour = from_scene ? o.colour : rng.pick(Vocabulary::colours());
      f.shape = from_scene ? o.shape : rng.pick(Vocabulary::shapes());
  }
  return f;
}

std::optional<Question> ask_attribute(const Scene& s, Rng& rng, const std::string& attribute) {
  const int i = int(rng.below(int64_t(s.objects.size())));
  auto ref = refer_to(s, i, rng, attribute);
  if (!ref) return std::nullopt;
  const std::string answer = attribute_of(s.objects[i], attribute);
  if (attribute == "colour") return Question{"What color is the " + ref->text() + "?", "what color is the", answer, "other"};
  if (attribute == "shape") return Question{"What shape is the " + ref->text() + "?", "what shape is the", answer, "other"};
  return Question{"What is the " + ref->text() + " made of?", "what is the", answer, "other"};
}

std::optional<Question> ask_relation(const Scene& s, Rng& rng) {
  if (s.objects.size() < 2) return std::nullopt;
  const int i = int(rng.below(int64_t(s.objects.size())));
  int j = int(rng.below(int64_t(s.objects.size()) - 1));
  if (j >= i) ++j;
  const std::string truth = clear_relation(s.objects[i], s.objects[j]);
  auto a = unique_filters(s, i), b = unique_filters(s, j);
  if (truth.empty() || a.empty() || b.empty()) return std::nullopt;
  std::string asked = truth;
  if (rng.chance(0.5)) {  // ask a relation that clearly does not hold
    std::vector<std::string> wrong;
    for (const auto& r : relations())
      if (!loosely(s.objects[i], r, s.objects[j])) wrong.push_back(r);
    asked = rng.pick(wrong);
  }
  return Question{"Is the " + a[0].noun() + " " + asked + " the " + b[0].noun() + "?", "is the",
                  yes_no(asked == truth), "yes/no"};
}

std::optional<Question> ask(const Scene& s, Rng& rng) {
  switch (rng.below(8)) {
    case 0: return ask_attribute(s, rng, "colour");
    case 1: return ask_attribute(s, rng, "shape");
    case 2: return ask_attribute(s, rng, "material");
    case 3: {
      Filter f = some_filter(s, rng);
      if (rng.chance(0.2)) f = Filter{};
      const std::string where = rng.chance(0.5) ? " are there?" : " are in the picture?";
      return Question{"How many " + f.nouns() + where, "how many", std::to_string(count(s, f)), "number"};
    }
    case 4: {
      Filter f = some_filter(s, rng);
      return Question{"Is there " + with_article(f.noun()) + "?", "is there a", yes_no(count(s, f) > 0), "yes/no"};
    }
    case 5: {
      Filter f;
      f.material = rng.pick(Vocabulary::materials());
      if (rng.chance(0.5)) f.colour = rng.pick(Vocabulary::colours());
      return Question{"Are there any " + f.nouns() + "?", "are there", yes_no(count(s, f) > 0), "yes/no"};
    }
    case 6: return ask_relation(s, rng);
    default: {
      const int i = int(rng.below(int64_t(s.objects.size())));
      auto ref = refer_to(s, i, rng, "size");
      if (!ref) return std::nullopt;
      const std::string asked = rng.pick(values_of("size"));
      return Question{"Is the " + ref->text() + " " + asked + "?", "is the", yes_no(asked == s.objects[i].size),
                      "yes/no"};
    }
  }
}

nlohmann::json answers_json(const std::vector<HumanAnswer>& answers) {
  nlohmann::json out = nlohmann::json::array();
  for (size_t k = 0; k < answers.size(); ++k)
    out.push_back({{"answer", answers[k].answer}, {"answer_confidence", answers[k].confidence}, {"answer_id", k + 1}});
  return out;
}

void write_split(const Context& c, const std::string& subtype, const std::vector<SceneImage>& images,
                 std::vector<VqaRecord>& records) {
  Rng rng = c.stream("vqa/" + subtype);
  nlohmann::json questions = nlohmann::json::array(), annotations = nlohmann::json::array();
  for (const auto& im : images) {
    for (int k = 0; k < 3; ++k) {
      std::optional<Question> q;
      for (int tries = 0; !q && tries < 20; ++tries) q = ask(im.scene, rng);
      if (!q) continue;
      const int64_t qid = im.id * 1000 + k;
      auto answers = human_answers(q->answer, rng);
      nlohmann::json question = {{"image_id", im.id}, {"question", q->text}, {"question_id", qid}};
      nlohmann::json annotation = {{"question_id", qid},
                                   {"image_id", im.id},
                                   {"question_type", q->type},
                                   {"answer_type", q->answer_type},
                                   {"multiple_choice_answer", most_common(answers)},
                                   {"answers", answers_json(answers)}};
      questions.push_back(question);
      annotations.push_back(annotation);
      question["coco_split"] = annotation["coco_split"] = subtype;
      records.push_back({question, annotation});
    }
  }
  const nlohmann::json info = {{"description", "smoes world: VQA v2-style questions"}, {"version", kGeneratorVersion}};
  const nlohmann::json license = {{"name", "generated"}, {"url", ""}};
  c.writer.write_json("vqa/v2_OpenEnded_mscoco_" + subtype + "_questions.json",
                      {{"info", info}, {"task_type", "Open-Ended"}, {"data_type", "mscoco"},
                       {"data_subtype", subtype}, {"license", license}, {"questions", questions}});
  c.writer.write_json("vqa/v2_mscoco_" + subtype + "_annotations.json",
                      {{"info", info}, {"license", license}, {"data_subtype", subtype}, {"annotations", annotations}});
  c.writer.count("vqa", subtype, "questions", int64_t(questions.size()));
  c.writer.count("vqa", subtype, "images", int64_t(images.size()));
}

}  // namespace

std::vector<VqaRecord> write_vqa(const Context& c, const std::vector<SceneImage>& train2014,
                                 const std::vector<SceneImage>& val2014) {
  std::vector<VqaRecord> records;
  write_split(c, "train2014", train2014, records);
  write_split(c, "val2014", val2014, records);
  return records;
}

}  // namespace smoes::world
