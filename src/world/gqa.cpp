// GQA: compositional questions over new scenes, with GQA's structural types
// (query, verify, logical, choose, compare), semantic types (attr, rel, obj,
// cat, global), detailed types, a functional program ("semantic") and full
// answers. Yes/no questions are built to be balanced (the asked value is the
// true one half of the time). train/val draw scenes without the held-out
// shape/colour pairs; testdev draws freely, so a few of its objects are
// combinations never seen in training (a mild compositional shift).
#include <cstdio>

#include "world/datasets.h"
#include "world/query.h"

namespace smoes::world {

namespace {

using json = nlohmann::json;

struct GqaQuestion {
  std::string question, answer, full, structural, semantic, detailed;
  json program = json::array();
  int focus = -1;  // the object the question is about (for annotations)
};

std::string yes_no(bool b) { return b ? "yes" : "no"; }

// Object ids as GQA writes them: numeric strings.
std::string object_id(int64_t image, int k) { return std::to_string(image * 10 + k); }

// GQA-style program steps that pick out the object `ref` names; returns the index of the last step.
int select_steps(json& program, const Scene& s, const Ref& ref, int64_t image, int target) {
  auto steps_for = [&](const Filter& f, int obj) {
    program.push_back({{"operation", "select"},
                       {"dependencies", json::array()},
                       {"argument", (f.shape.empty() ? "object" : f.shape) + " (" + object_id(image, obj) + ")"}});
    for (const char* a : {"size", "colour", "material"})
      if (!f.at(a).empty())
        program.push_back({{"operation", std::string("filter ") + (std::string(a) == "colour" ? "color" : a)},
                           {"dependencies", {int(program.size()) - 1}},
                           {"argument", f.at(a)}});
    return int(program.size()) - 1;
  };
  if (!ref.relation.empty()) {
    const auto anchors = select(s, ref.anchor);
    const int anchor = steps_for(ref.anchor, anchors.at(0));
    program.push_back({{"operation", "relate"},
                       {"dependencies", {anchor}},
                       {"argument", (ref.target.shape.empty() ? "_" : ref.target.shape) + "," + ref.relation + ",s (" +
                                        object_id(image, target) + ")"}});
    return int(program.size()) - 1;
  }
  int last = steps_for(ref.target, target);
  if (!ref.superlative.empty())
    program.push_back({{"operation", "filter position"}, {"dependencies", {last}}, {"argument", ref.superlative}}), ++last;
  return last;
}

void finish(GqaQuestion& q, int dep, const std::string& op, const std::string& arg) {
  json deps = json::array();
  if (dep >= 0) deps.push_back(dep);
  q.program.push_back({{"operation", op}, {"dependencies", deps}, {"argument", arg}});
}

std::string other_value(const std::string& attribute, const std::string& truth, Rng& rng) {
  std::string v;
  do v = rng.pick(values_of(attribute));
  while (v == truth);
  return v;
}

std::string word(const std::string& attribute) { return attribute == "colour" ? "color" : attribute; }

std::optional<GqaQuestion> query_attr(const Scene& s, Rng& rng, int64_t image) {
  const int i = int(rng.below(int64_t(s.objects.size())));
  const std::string a = rng.chance(0.6) ? "colour" : "material";
  auto ref = refer_to(s, i, rng, a);
  if (!ref) return std::nullopt;
  GqaQuestion q;
  const std::string v = attribute_of(s.objects[i], a), np = ref->text();
  q.question = a == "colour" ? "What color is the " + np + "?" : "What material is the " + np + "?";
  q.answer = v;
  q.full = a == "colour" ? "The " + ref->target.noun() + " is " + v + "." : "The " + ref->target.noun() + " is made of " + v + ".";
  q.structural = "query", q.semantic = ref->relation.empty() ? "attr" : "rel";
  q.detailed = ref->relation.empty() ? (a == "colour" ? "queryAttr" : "queryMaterial") : "relAttr";
  finish(q, select_steps(q.program, s, *ref, image, i), "query", word(a));
  q.focus = i;
  return q;
}

std::optional<GqaQuestion> query_shape(const Scene& s, Rng& rng, int64_t image) {
  const int i = int(rng.below(int64_t(s.objects.size())));
  std::optional<Ref> ref = rng.chance(0.5) ? relational_ref(s, i, rng, "shape") : refer_to(s, i, rng, "shape");
  if (!ref) return std::nullopt;
  GqaQuestion q;
  const std::string v = s.objects[i].shape;
  q.question = "What shape is the " + ref->text() + "?";
  q.answer = v;
  q.full = "The " + ref->target.noun() + " is " + with_article(v) + ".";
  q.structural = "query", q.semantic = ref->relation.empty() ? "cat" : "rel";
  q.detailed = ref->relation.empty() ? "category" : "categoryRelS";
  finish(q, select_steps(q.program, s, *ref, image, i), "query", "name");
  q.focus = i;
  return q;
}

std::optional<GqaQuestion> verify_attr(const Scene& s, Rng& rng, int64_t image) {
  const int i = int(rng.below(int64_t(s.objects.size())));
  const std::string a = rng.chance(0.5) ? "colour" : rng.chance(0.5) ? "material" : "size";
  auto ref = refer_to(s, i, rng, a);
  if (!ref) return std::nullopt;
  const std::string truth = attribute_of(s.objects[i], a);
  const bool yes = rng.chance(0.5);
  const std::string asked = yes ? truth : other_value(a, truth, rng);
  GqaQuestion q;
  const std::string np = ref->text(), head = ref->target.noun();
  q.question = a == "material" ? "Is the " + np + " made of " + asked + "?" : "Is the " + np + " " + asked + "?";
  q.answer = yes_no(yes);
  const std::string be = a == "material" ? " made of " : " ";
  q.full = yes ? "Yes, the " + head + " is" + be + truth + "." : "No, the " + head + " is" + be + truth + ".";
  q.structural = "verify", q.semantic = "attr", q.detailed = a == "colour" ? "verifyAttr" : "verifyAttrs";
  finish(q, select_steps(q.program, s, *ref, image, i), "verify " + word(a), asked);
  q.focus = i;
  return q;
}

// A filter for existence questions: from an object of the scene or absent, half and half.
Filter exist_filter(const Scene& s, Rng& rng, bool present) {
  for (int tries = 0; tries < 50; ++tries) {
    const Object& o = s.objects[rng.below(int64_t(s.objects.size()))];
    const bool by_colour = rng.chance(0.5);
    Filter f;
    f.shape = present ? o.shape : rng.pick(Vocabulary::shapes());
    if (by_colour) f.colour = present ? o.colour : rng.pick(Vocabulary::colours());
    else f.material = present ? o.material : rng.pick(Vocabulary::materials());
    if ((count(s, f) > 0) == present) return f;
  }
  return Filter::of(s.objects[0]);  // the answer is computed from the scene either way
}

std::optional<GqaQuestion> exist(const Scene& s, Rng& rng, int64_t image) {
  const bool yes = rng.chance(0.5);
  Filter f = exist_filter(s, rng, yes);
  const bool truth = count(s, f) > 0;
  GqaQuestion q;
  q.question = "Is there " + with_article(f.noun()) + " in the picture?";
  q.answer = yes_no(truth);
  q.full = truth ? "Yes, there is " + with_article(f.noun()) + "." : "No, there are no " + f.nouns() + ".";
  q.structural = "verify", q.semantic = "obj", q.detailed = "exist";
  finish(q, -1, "select", f.shape.empty() ? "object" : f.shape);
  finish(q, 0, "exist", "?");
  return q;
}

std::optional<GqaQuestion> logic(const Scene& s, Rng& rng, int64_t image) {
  const bool is_and = rng.chance(0.5);
  Filter a = exist_filter(s, rng, rng.chance(0.6)), b = exist_filter(s, rng, rng.chance(0.6));
  if (a.noun() == b.noun()) return std::nullopt;
  const bool ha = count(s, a) > 0, hb = count(s, b) > 0, truth = is_and ? ha && hb : ha || hb;
  GqaQuestion q;
  q.question = is_and ? "Are there both " + with_article(a.noun()) + " and " + with_article(b.noun()) + " in the picture?"
                      : "Is there " + with_article(a.noun()) + " or " + with_article(b.noun()) + " in the picture?";
  q.answer = yes_no(truth);
  if (is_and) q.full = truth ? "Yes, there are both " + with_article(a.noun()) + " and " + with_article(b.noun()) + "."
                             : "No, there " + std::string(ha ? "is " + with_article(a.noun()) + " but no " + b.noun()
                                                             : "is no " + a.noun()) + ".";
  else q.full = truth ? "Yes, there is " + with_article((ha ? a : b).noun()) + "."
                      : "No, there are no " + a.nouns() + " or " + b.nouns() + ".";
  q.structural = "logical", q.semantic = "obj", q.detailed = is_and ? "logicAnd" : "logicOr";
  finish(q, -1, "select", a.shape.empty() ? "object" : a.shape);
  finish(q, 0, "exist", "?");
  finish(q, -1, "select", b.shape.empty() ? "object" : b.shape);
  finish(q, 2, "exist", "?");
  q.program.push_back({{"operation", is_and ? "and" : "or"}, {"dependencies", {1, 3}}, {"argument", ""}});
  return q;
}

std::optional<GqaQuestion> choose_attr(const Scene& s, Rng& rng, int64_t image) {
  const int i = int(rng.below(int64_t(s.objects.size())));
  const std::string a = rng.chance(0.6) ? "colour" : "material";
  auto ref = refer_to(s, i, rng, a);
  if (!ref) return std::nullopt;
  const std::string truth = attribute_of(s.objects[i], a), other = other_value(a, truth, rng);
  const bool first = rng.chance(0.5);
  GqaQuestion q;
  const std::string options = (first ? truth : other) + " or " + (first ? other : truth);
  q.question = a == "colour" ? "Is the " + ref->text() + " " + options + "?"
                             : "Is the " + ref->text() + " made of " + options + "?";
  q.answer = truth;
  q.full = "The " + ref->target.noun() + " is " + (a == "material" ? "made of " : "") + truth + ".";
  q.structural = "choose", q.semantic = "attr", q.detailed = a == "colour" ? "chooseAttr" : "chooseMaterial";
  finish(q, select_steps(q.program, s, *ref, image, i), "choose " + word(a), first ? truth + "|" + other : other + "|" + truth);
  q.focus = i;
  return q;
}

// Two different objects with unique attribute references.
bool two_objects(const Scene& s, Rng& rng, int& i, int& j, Filter& fi, Filter& fj) {
  if (s.objects.size() < 2) return false;
  i = int(rng.below(int64_t(s.objects.size())));
  j = int(rng.below(int64_t(s.objects.size()) - 1));
  if (j >= i) ++j;
  auto a = unique_filters(s, i), b = unique_filters(s, j);
  if (a.empty() || b.empty()) return false;
  fi = a[0], fj = b[0];
  return true;
}

std::optional<GqaQuestion> choose_rel(const Scene& s, Rng& rng, int64_t image) {
  int i, j;
  Filter a, b;
  if (!two_objects(s, rng, i, j, a, b)) return std::nullopt;
  const std::string rel = clear_relation(s.objects[i], s.objects[j]);
  if (rel.empty()) return std::nullopt;
  const bool horizontal = rel == "left of" || rel == "right of";
  const std::string x = horizontal ? "to the left" : "above", y = horizontal ? "to the right" : "below";
  const std::string answer = rel == "left of" ? "left" : rel == "right of" ? "right" : rel;
  const bool flip = rng.chance(0.5);
  GqaQuestion q;
  q.question = "Is the " + a.noun() + " " + (flip ? y + " or " + x : x + " or " + y) + " of the " + b.noun() + "?";
  if (!horizontal) q.question = "Is the " + a.noun() + " " + (flip ? "below or above" : "above or below") + " the " + b.noun() + "?";
  q.answer = answer;
  q.full = "The " + a.noun() + " is " + (horizontal ? "to the " + answer + " of" : answer) + " the " + b.noun() + ".";
  q.structural = "choose", q.semantic = "rel", q.detailed = "chooseRel";
  finish(q, select_steps(q.program, s, Ref{b, "", {}, ""}, image, j), "choose rel",
         a.shape + "," + (horizontal ? "to the left of|to the right of" : "above|below") + ",s (" + object_id(image, i) + ")");
  q.focus = i;
  return q;
}

std::optional<GqaQuestion> verify_rel(const Scene& s, Rng& rng, int64_t image) {
  int i, j;
  Filter a, b;
  if (!two_objects(s, rng, i, j, a, b)) return std::nullopt;
  const std::string truth = clear_relation(s.objects[i], s.objects[j]);
  if (truth.empty()) return std::nullopt;
  std::string asked = truth;
  const bool yes = rng.chance(0.5);
  if (!yes) {
    std::vector<std::string> wrong;
    for (const auto& r : relations())
      if (!loosely(s.objects[i], r, s.objects[j])) wrong.push_back(r);
    asked = rng.pick(wrong);
  }
  auto phrase = [](const std::string& r) { return r == "left of" || r == "right of" ? "to the " + r : r; };
  GqaQuestion q;
  q.question = "Is the " + a.noun() + " " + phrase(asked) + " the " + b.noun() + "?";
  q.answer = yes_no(yes);
  q.full = std::string(yes ? "Yes" : "No") + ", the " + a.noun() + " is " + phrase(truth) + " the " + b.noun() + ".";
  q.structural = "verify", q.semantic = "rel", q.detailed = "verifyRel";
  finish(q, select_steps(q.program, s, Ref{b, "", {}, ""}, image, j), "verify rel",
         a.shape + "," + asked + ",s (" + object_id(image, i) + ")");
  q.focus = i;
  return q;
}

std::optional<GqaQuestion> compare(const Scene& s, Rng& rng, int64_t image) {
  int i, j;
  Filter a, b;
  if (!two_objects(s, rng, i, j, a, b)) return std::nullopt;
  const Object &oi = s.objects[i], &oj = s.objects[j];
  GqaQuestion q;
  q.structural = "compare", q.semantic = "attr", q.focus = i;
  if (oi.size != oj.size && oi.shape != oj.shape && rng.chance(0.4)) {
    const Object& big = oi.size == "large" ? oi : oj;
    const Object& small = oi.size == "large" ? oj : oi;
    q.question = "Which is larger, the " + a.noun() + " or the " + b.noun() + "?";
    q.answer = big.shape;
    q.full = "The " + big.shape + " is larger than the " + small.shape + ".";
    q.detailed = "compare";
    finish(q, -1, "select", a.shape), finish(q, -1, "select", b.shape);
    q.program.push_back({{"operation", "choose larger"}, {"dependencies", {0, 1}}, {"argument", ""}});
    return q;
  }
  const std::string attr = rng.chance(0.5) ? "colour" : "material";
  const bool same = attribute_of(oi, attr) == attribute_of(oj, attr);
  q.question = "Do the " + a.noun() + " and the " + b.noun() + " have the same " + word(attr) + "?";
  q.answer = yes_no(same);
  q.full = same ? "Yes, both the " + a.noun() + " and the " + b.noun() + " are " + attribute_of(oi, attr) + "."
                : "No, the " + a.noun() + " is " + attribute_of(oi, attr) + " and the " + b.noun() + " is " +
                      attribute_of(oj, attr) + ".";
  q.detailed = attr == "colour" ? "sameColor" : "sameMaterial";
  finish(q, -1, "select", a.shape), finish(q, -1, "select", b.shape);
  q.program.push_back({{"operation", "same " + word(attr)}, {"dependencies", {0, 1}}, {"argument", ""}});
  return q;
}

std::optional<GqaQuestion> global(const Scene& s, Rng& rng, int64_t image) {
  GqaQuestion q;
  q.question = rng.chance(0.5) ? "What is the background of the picture?" : "Which background is it?";
  q.answer = s.background;
  q.full = "The background is " + s.background + ".";
  q.structural = "query", q.semantic = "global", q.detailed = "place";
  finish(q, -1, "query", "place");
  return q;
}

std::optional<GqaQuestion> ask(const Scene& s, Rng& rng, int64_t image) {
  using Maker = std::optional<GqaQuestion> (*)(const Scene&, Rng&, int64_t);
  // Weights roughly follow GQA's mix: many queries and verifies, fewer logical/compare/global.
  static const std::vector<std::pair<Maker, int>> makers = {
      {query_attr, 5}, {query_shape, 4}, {verify_attr, 4}, {exist, 3},   {logic, 3},
      {choose_attr, 3}, {choose_rel, 2}, {verify_rel, 3},  {compare, 3}, {global, 1}};
  int total = 0;
  for (const auto& m : makers) total += m.second;
  int pick = int(rng.below(total));
  for (const auto& [make, weight] : makers) {
    if (pick < weight) return make(s, rng, image);
    pick -= weight;
  }
  return std::nullopt;
}

// {"<token index>": "<object id>"} for the focus object's head noun in `text`.
json annotate(const std::string& text, const Scene& s, int focus, int64_t image) {
  json out = json::object();
  if (focus < 0) return out;
  const auto tokens = word_tokens(text);
  for (size_t k = 0; k < tokens.size(); ++k)
    if (tokens[k] == s.objects[focus].shape) {
      out[std::to_string(k)] = object_id(image, focus);
      break;
    }
  return out;
}

int64_t write_split(const Context& c, const std::string& split, const std::string& kind, int64_t first_image,
                    int64_t& next_question) {
  Rng rng = c.stream("gqa/" + split);
  const int n = c.count("gqa_" + split);
  std::vector<ImageJob> jobs;
  json doc = json::object();
  for (int k = 0; k < n; ++k) {
    const int64_t image = first_image + k;
    const std::string image_id = std::to_string(image);
    Scene scene = sample_scene(rng, c.options.image_size, "photo", kind, c.options.max_objects);
    add_image(jobs, "gqa/images/" + image_id + ".png", scene, rng);
    for (int asked = 0, tries = 0; asked < 5 && tries < 30; ++tries) {
      auto q = ask(scene, rng, image);
      if (!q) continue;
      ++asked;
      char qid[32];
      std::snprintf(qid, sizeof qid, "%08lld", static_cast<long long>(next_question++));
      doc[qid] = {{"imageId", image_id},
                  {"question", q->question},
                  {"answer", q->answer},
                  {"fullAnswer", q->full},
                  {"isBalanced", true},
                  {"types", {{"structural", q->structural}, {"semantic", q->semantic}, {"detailed", q->detailed}}},
                  {"semantic", q->program},
                  {"semanticStr", ""},
                  {"annotations",
                   {{"question", annotate(q->question, scene, q->focus, image)},
                    {"answer", json::object()},
                    {"fullAnswer", annotate(q->full, scene, q->focus, image)}}}};
      std::string str;  // GQA's one-line program text
      for (const auto& step : q->program) str += step["operation"].get<std::string>() + ": " + step["argument"].get<std::string>() + "->";
      doc[qid]["semanticStr"] = str.empty() ? str : str.substr(0, str.size() - 2);
    }
  }
  c.render(jobs, "gqa", split);
  c.writer.write_json("gqa/questions/" + split + "_balanced_questions.json", doc);
  c.writer.count("gqa", split, "images", n);
  c.writer.count("gqa", split, "questions", int64_t(doc.size()));
  return first_image + n;
}

}  // namespace

void write_gqa(const Context& c) {
  int64_t next_image = 2300001, next_question = 1;
  for (auto [split, kind] : {std::pair{"train", "train"}, {"val", "train"}, {"testdev", "any"}})
    next_image = write_split(c, split, kind, next_image, next_question);
}

}  // namespace smoes::world
