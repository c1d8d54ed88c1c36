// A-OKVQA: questions whose answer needs a world fact that only the text
// corpus states (knowledge.h: which materials float, are magnetic, burn,
// bounce, conduct electricity, break) together with what the image shows
// (each object's material). Choices and direct answers name objects by
// colour/shape/position, never by material, so the image is needed too; the
// rationales give only the visual evidence (the materials), never the fact.
// Train asks about the properties not marked held_out; val asks about all of
// them, half of its questions about held-out properties (conducts, fragile)
// that no train question mentions, so answering them needs the corpus.
// Images: aokvqa/images/{train2017,val2017}/%012d.png (COCO 2017 naming).
#include <algorithm>

#include "world/answers.h"
#include "world/datasets.h"
#include "world/knowledge.h"
#include "world/query.h"

namespace smoes::world {

namespace {

using json = nlohmann::json;

struct Question {
  std::string question;
  std::vector<std::string> choices;  // the right one first
  std::vector<std::string> direct;   // 10
  std::vector<std::string> rationales;
};

std::string cap(std::string s) {
  s[0] = char(std::toupper((unsigned char)s[0]));
  return s;
}

std::string material_adj(const std::string& m) { return m == "wood" ? "wooden" : m; }

// A-OKVQA question ids: 22 characters of base-57 text.
std::string question_id(Rng& rng) {
  static const std::string alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  std::string id;
  for (int k = 0; k < 22; ++k) id += alphabet[rng.below(int64_t(alphabet.size()))];
  return id;
}

// "The picture has two wooden objects and one glass object." (visual evidence only)
std::string material_census(const Scene& s) {
  std::vector<std::string> parts;
  for (const auto& m : Vocabulary::materials()) {
    Filter f;
    f.material = m;
    const int n = count(s, f);
    if (n > 0) parts.push_back(number_word(n) + " " + (n == 1 ? f.noun() : f.nouns()));
  }
  std::string out = "The picture has ";
  for (size_t k = 0; k < parts.size(); ++k) out += (k == 0 ? "" : k + 1 == parts.size() ? " and " : ", ") + parts[k];
  return out + ".";
}

// Which object has the property (exactly one does).
std::optional<Question> which_object(const Scene& s, const Property& p, Rng& rng) {
  std::vector<int> with, without;
  for (size_t i = 0; i < s.objects.size(); ++i) (has_property(s.objects[i].material, p) ? with : without).push_back(int(i));
  if (with.size() != 1 || without.empty()) return std::nullopt;
  const int i = with[0];
  auto ref = refer_to(s, i, rng, "material");
  if (!ref) return std::nullopt;
  Question q;
  q.question = "Which object in the image " + p.clause + "?";
  q.choices.push_back(ref->text());
  for (int j : without)
    if (auto r = refer_to(s, j, rng, "material"); r && q.choices.size() < 4 && r->text() != q.choices[0])
      q.choices.push_back(r->text());
  for (int tries = 0; q.choices.size() < 4 && tries < 100; ++tries) {  // objects that are not in the picture
    Filter f{"", rng.pick(Vocabulary::colours()), "", rng.pick(Vocabulary::shapes())};
    if (count(s, f) == 0 && std::find(q.choices.begin(), q.choices.end(), f.noun()) == q.choices.end())
      q.choices.push_back(f.noun());
  }
  if (q.choices.size() < 4) return std::nullopt;
  // Direct answers: mostly the object's colour and shape, some shorter or longer forms, a few wrong.
  const Object& o = s.objects[i];
  const std::string truth = q.choices[0];
  const bool shape_unique = count(s, Filter{"", "", "", o.shape}) == 1;
  for (int k = 0; k < 10; ++k) {
    const double u = rng.uniform();
    q.direct.push_back(u < 0.65 ? truth : u < 0.8 ? (shape_unique ? o.shape : truth) : u < 0.9 ? "the " + truth
                                                                                               : q.choices[1 + rng.below(3)]);
  }
  q.rationales = {"The " + ref->text() + " is made of " + o.material + ".",
                  "It is the only " + material_adj(o.material) + " object in the picture.", material_census(s)};
  return q;
}

std::optional<Question> how_many(const Scene& s, const Property& p, Rng& rng) {
  int n = 0;
  for (const auto& o : s.objects) n += has_property(o.material, p);
  Question q;
  q.question = "How many objects in the picture " + p.clause + "?";
  q.choices.push_back(std::to_string(n));
  for (int tries = 0; q.choices.size() < 4 && tries < 100; ++tries) {
    const std::string c = std::to_string(rng.below(7));
    if (std::find(q.choices.begin(), q.choices.end(), c) == q.choices.end()) q.choices.push_back(c);
  }
  for (const auto& h : human_answers(std::to_string(n), rng, 10, 0.7)) q.direct.push_back(h.answer);
  q.rationales = {material_census(s), "There are " + number_word(int(s.objects.size())) + " objects in total.",
                  "Look at what each object is made of."};
  return q;
}

std::optional<Question> float_or_sink(const Scene& s, Rng& rng) {
  const int i = int(rng.below(int64_t(s.objects.size())));
  auto ref = refer_to(s, i, rng, "material");
  if (!ref) return std::nullopt;
  const bool floats = has_property(s.objects[i].material, property("floats"));
  Question q;
  q.question = "Would the " + ref->text() + " float or sink if it were put in water?";
  q.choices = {floats ? "float" : "sink", floats ? "sink" : "float", "melt", "change color"};
  for (const auto& h : human_answers(q.choices[0], rng, 10, 0.8)) q.direct.push_back(h.answer);
  q.rationales = {"The " + ref->text() + " is made of " + s.objects[i].material + ".",
                  "The " + ref->text() + " looks " +
                      (s.objects[i].material == "metal" ? "shiny" : s.objects[i].material == "glass" ? "see-through"
                       : s.objects[i].material == "wood" ? "striped" : "dull") + ".",
                  cap(with_article(material_adj(s.objects[i].material))) + " object is in the picture."};
  return q;
}

std::optional<Question> ask(const Scene& s, const Property& p, Rng& rng) {
  const auto r = rng.below(p.name == "floats" ? 3 : 2);
  if (r == 0) {
    if (auto q = which_object(s, p, rng)) return q;
  }
  if (r == 2) return float_or_sink(s, rng);
  return how_many(s, p, rng);
}

void write_split(const Context& c, const std::string& split, int64_t first_id) {
  Rng rng = c.stream("aokvqa/" + split);
  const int n = c.count("aokvqa_" + split);
  const std::string folder = split + "2017";
  std::vector<const Property*> seen, held_out;
  for (const auto& p : properties()) (p.held_out ? held_out : seen).push_back(&p);
  std::vector<ImageJob> jobs;
  json records = json::array();
  int64_t about_held_out = 0;
  for (int k = 0; k < n; ++k) {
    const int64_t image_id = first_id + k;
    Scene scene;
    do scene = sample_scene(rng, c.options.image_size, "photo", "any", c.options.max_objects);
    while (scene.objects.size() < 2);
    add_image(jobs, "aokvqa/images/" + folder + "/" + image_name("%012lld.png", image_id), scene, rng);
    const int questions = 1 + int(rng.chance(0.5));
    for (int m = 0; m < questions; ++m) {
      const bool novel = split == "val" && rng.chance(0.5);
      const Property& p = *rng.pick(novel ? held_out : seen);
      auto q = ask(scene, p, rng);
      if (!q) continue;
      about_held_out += p.held_out;
      std::vector<int> order = {0, 1, 2, 3};
      for (int t = 3; t > 0; --t) std::swap(order[t], order[rng.below(t + 1)]);
      json choices = json::array();
      int correct = 0;
      for (int t = 0; t < 4; ++t) {
        choices.push_back(q->choices[order[t]]);
        if (order[t] == 0) correct = t;
      }
      const int agree = int(std::count(q->direct.begin(), q->direct.end(), q->choices[0]));
      records.push_back({{"split", split},
                         {"image_id", image_id},
                         {"question_id", question_id(rng)},
                         {"question", q->question},
                         {"choices", choices},
                         {"correct_choice_idx", correct},
                         {"direct_answers", q->direct},
                         {"difficult_direct_answer", agree < 7},
                         {"rationales", q->rationales}});
    }
  }
  c.render(jobs, "aokvqa", split);
  c.writer.write_json("aokvqa/aokvqa_v1p0_" + split + ".json", records);
  c.writer.count("aokvqa", split, "images", n);
  c.writer.count("aokvqa", split, "questions", int64_t(records.size()));
  c.writer.count("aokvqa", split, "held_out_property_questions", about_held_out);
}

}  // namespace

void write_aokvqa(const Context& c) {
  write_split(c, "train", 1000001);
  write_split(c, "val", 2000001);
}

}  // namespace smoes::world
