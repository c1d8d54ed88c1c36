// VCR: multiple-choice questions whose tokens point at detected objects by
// index ([0] is objects[0]), four answers and four rationales each. The
// rationale gives the visual evidence for the answer (what the renderer
// draws: metal shines, glass shows the background through it, wood has
// stripes, rubber is dull). Wrong answers are the other values of the asked
// property and wrong rationales are the evidence for those wrong answers, so
// Q->AR needs the answer and the rationale to agree. Images
// vcr1images/<movie>/<movie>_<shot>@0.png with a metadata JSON beside each
// (boxes [x1, y1, x2, y2, score], segms, names, width, height).
#include "world/datasets.h"
#include "world/query.h"

namespace smoes::world {

namespace {

using json = nlohmann::json;
using Tokens = json;  // a list of words and object-index lists

struct VcrQuestion {
  Tokens question;
  std::vector<Tokens> answers, rationales;  // the right one first
};

Tokens obj(int i) { return json::array({i}); }

std::string material_evidence_word(const std::string& m) {
  if (m == "metal") return "shiny";
  if (m == "glass") return "see-through";
  if (m == "wood") return "striped";
  return "dull";
}

Tokens material_rationale(int i, const std::string& m) {
  if (m == "metal") return {obj(i), "has", "a", "bright", "shiny", "spot", "and", "you", "cannot", "see", "through", "it", "."};
  if (m == "glass") return {"You", "can", "see", "the", "background", "through", obj(i), "."};
  if (m == "wood") return {obj(i), "has", "stripes", "like", "the", "grain", "of", "a", "plank", "."};
  return {obj(i), "is", "dull", ",", "with", "no", "shine", "and", "no", "stripes", "."};
}

VcrQuestion ask_material(const Scene& s, Rng& rng) {
  const int i = int(rng.below(int64_t(s.objects.size())));
  VcrQuestion q;
  q.question = {"What", "is", obj(i), "made", "of", "?"};
  std::vector<std::string> order = {s.objects[i].material};
  for (const auto& m : Vocabulary::materials())
    if (m != s.objects[i].material) order.push_back(m);
  for (const auto& m : order) {
    q.answers.push_back({obj(i), "is", "made", "of", m, "."});
    q.rationales.push_back(material_rationale(i, m));
  }
  return q;
}

std::optional<VcrQuestion> ask_vcr_relation(const Scene& s, Rng& rng) {
  if (s.objects.size() < 2) return std::nullopt;
  const int i = int(rng.below(int64_t(s.objects.size())));
  int j = int(rng.below(int64_t(s.objects.size()) - 1));
  if (j >= i) ++j;
  const std::string rel = clear_relation(s.objects[i], s.objects[j]);
  if (rel.empty()) return std::nullopt;
  VcrQuestion q;
  q.question = {"Where", "is", obj(i), "compared", "to", obj(j), "?"};
  std::vector<std::string> order = {rel};
  for (const auto& r : relations())
    if (r != rel) order.push_back(r);
  static const std::map<std::string, std::string> edge = {
      {"left of", "left"}, {"right of", "right"}, {"above", "top"}, {"below", "bottom"}};
  for (const auto& r : order) {
    Tokens a = {obj(i), "is"};
    for (const auto& w : word_tokens(r)) a.push_back(w);
    a.push_back(obj(j)), a.push_back(".");
    q.answers.push_back(a);
    q.rationales.push_back({obj(i), "is", "closer", "to", "the", edge.at(r), "edge", "of", "the", "picture", "than",
                            obj(j), "is", "."});
  }
  return q;
}

std::optional<VcrQuestion> ask_size(const Scene& s, Rng& rng) {
  if (s.objects.size() < 2) return std::nullopt;
  const int i = int(rng.below(int64_t(s.objects.size())));
  int j = int(rng.below(int64_t(s.objects.size()) - 1));
  if (j >= i) ++j;
  const Object &a = s.objects[i], &b = s.objects[j];
  if (a.size == b.size) return std::nullopt;
  const int big = a.size == "large" ? i : j, small = big == i ? j : i;
  VcrQuestion q;
  q.question = {"Which", "is", "bigger", ",", obj(i), "or", obj(j), "?"};
  q.answers = {{obj(big), "is", "bigger", "than", obj(small), "."},
               {obj(small), "is", "bigger", "than", obj(big), "."},
               {obj(i), "and", obj(j), "are", "the", "same", "size", "."},
               {"Neither", ",", "they", "are", "both", "tiny", "."}};
  q.rationales = {{obj(big), "covers", "more", "of", "the", "picture", "than", obj(small), "does", "."},
                  {obj(small), "covers", "more", "of", "the", "picture", "than", obj(big), "does", "."},
                  {obj(i), "and", obj(j), "cover", "the", "same", "area", "."},
                  {"Both", "objects", "are", "smaller", "than", "a", "fingertip", "."}};
  return q;
}

std::string orig_text(const Tokens& tokens, const Scene& s) {
  std::string out;
  for (const auto& t : tokens) {
    std::string w;
    if (t.is_array()) {
      for (size_t k = 0; k < t.size(); ++k) {
        const int i = t[k];
        w += (k ? " and " : "") + s.objects[i].shape + " " + std::to_string(i);
      }
    } else {
      w = t.get<std::string>();
    }
    if (!out.empty() && w != "." && w != "?" && w != ",") out += " ";
    out += w;
  }
  return out;
}

json metadata(const Scene& s) {
  json boxes = json::array(), segms = json::array(), names = json::array();
  for (const auto& o : s.objects) {
    auto b = bbox(s, o);
    boxes.push_back({b[0], b[1], b[0] + b[2], b[1] + b[3], 1.0});
    auto poly = outline(s, o);
    json points = json::array();
    for (size_t k = 0; k + 1 < poly.size(); k += 2) points.push_back({poly[k], poly[k + 1]});
    segms.push_back(json::array({points}));
    names.push_back(o.shape);
  }
  return {{"boxes", boxes}, {"segms", segms}, {"names", names}, {"width", s.width}, {"height", s.height}};
}

void write_split(const Context& c, const std::string& split, const std::string& kind, int first_movie) {
  Rng rng = c.stream("vcr/" + split);
  const int n = c.count("vcr_" + split);
  std::vector<ImageJob> jobs;
  std::vector<json> lines;
  for (int k = 0; k < n; ++k) {
    const std::string movie = image_name("world_%04lld_SHAPES", first_movie + k / 10);
    const std::string stem = movie + "/" + movie + image_name("_shot%05lld@0", k);
    Scene scene = sample_scene(rng, c.options.image_size, "photo", kind, c.options.max_objects);
    add_image(jobs, "vcr/vcr1images/" + stem + ".png", scene, rng);
    c.writer.write_json("vcr/vcr1images/" + stem + ".json", metadata(scene));
    json objects = json::array();
    for (const auto& o : scene.objects) objects.push_back(o.shape);
    for (int asked = 0, tries = 0; asked < 2 && tries < 20; ++tries) {
      std::optional<VcrQuestion> q;
      switch (rng.below(3)) {
        case 0: q = ask_material(scene, rng); break;
        case 1: q = ask_vcr_relation(scene, rng); break;
        default: q = ask_size(scene, rng);
      }
      if (!q) continue;
      // Shuffle answers and rationales independently; remember where the right ones went.
      std::vector<int> ap = {0, 1, 2, 3}, rp = {0, 1, 2, 3};
      for (int m = 3; m > 0; --m) std::swap(ap[m], ap[rng.below(m + 1)]);
      for (int m = 3; m > 0; --m) std::swap(rp[m], rp[rng.below(m + 1)]);
      json answers = json::array(), rationales = json::array();
      int answer_label = 0, rationale_label = 0;
      for (int m = 0; m < 4; ++m) {
        answers.push_back(q->answers[ap[m]]), rationales.push_back(q->rationales[rp[m]]);
        if (ap[m] == 0) answer_label = m;
        if (rp[m] == 0) rationale_label = m;
      }
      lines.push_back({{"annot_id", split + "-" + std::to_string(lines.size())},
                       {"movie", movie},
                       {"img_fn", stem + ".png"},
                       {"metadata_fn", stem + ".json"},
                       {"img_id", split + "-" + std::to_string(k)},
                       {"question_number", asked},
                       {"objects", objects},
                       {"question", q->question},
                       {"answer_choices", answers},
                       {"answer_label", answer_label},
                       {"rationale_choices", rationales},
                       {"rationale_label", rationale_label},
                       {"question_orig", orig_text(q->question, scene)},
                       {"answer_orig", orig_text(q->answers[0], scene)},
                       {"rationale_orig", orig_text(q->rationales[0], scene)},
                       {"answer_likelihood", "likely"},
                       {"interesting_scores", json::array({0})}});
      ++asked;
    }
  }
  c.render(jobs, "vcr", split);
  c.writer.write_jsonl("vcr/" + split + ".jsonl", lines);
  c.writer.count("vcr", split, "images", n);
  c.writer.count("vcr", split, "questions", int64_t(lines.size()));
}

}  // namespace

void write_vcr(const Context& c) {
  write_split(c, "train", "train", 1);
  write_split(c, "val", "any", 5001);
}

}  // namespace smoes::world
