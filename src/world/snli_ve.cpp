// SNLI-VE: an image (premise; its COCO-style caption is sentence1) and three
// hypotheses per image, one per label, so labels are balanced:
//   entailment     a statement the scene makes true (an object, a count, a relation, a colour)
//   contradiction  a statement the scene makes false, about the same kinds of things
//   neutral        a statement about a visible object that no image can decide:
//                  its history, owner or future ("the red circle was put there
//                  by a child"). Never a physical property: weight, floating,
//                  magnetism etc. follow from the material and the corpus
//                  facts, so they would not be neutral.
#include "world/datasets.h"
#include "world/query.h"
#include "world/text.h"

namespace smoes::world {

namespace {

std::string cap(std::string s) {
  s[0] = char(std::toupper((unsigned char)s[0]));
  return s;
}

Filter present_filter(const Scene& s, Rng& rng) {
  const Object& o = s.objects[rng.below(int64_t(s.objects.size()))];
  Filter f;
  f.shape = o.shape;
  if (rng.chance(0.5)) f.colour = o.colour;
  else if (rng.chance(0.5)) f.material = o.material;
  return f;
}

Filter absent_filter(const Scene& s, Rng& rng) {
  for (int tries = 0; tries < 50; ++tries) {
    Filter f;
    f.shape = rng.pick(Vocabulary::shapes());
    f.colour = rng.pick(Vocabulary::colours());
    if (count(s, f) == 0) return f;
  }
  return Filter{"large", "white", "glass", "diamond"};
}

std::optional<std::string> entailment(const Scene& s, Rng& rng) {
  switch (rng.below(4)) {
    case 0: return "There is " + with_article(present_filter(s, rng).noun()) + " in the picture.";
    case 1: {
      const int n = int(s.objects.size());
      return "There " + std::string(n == 1 ? "is one object" : "are " + number_word(n) + " objects") + " in the picture.";
    }
    case 2: {
      const int i = int(rng.below(int64_t(s.objects.size())));
      auto ref = refer_to(s, i, rng, "colour");
      if (!ref) return std::nullopt;
      return "The " + ref->text() + " is " + s.objects[i].colour + ".";
    }
    default: {
      if (s.objects.size() < 2) return std::nullopt;
      const int i = int(rng.below(int64_t(s.objects.size()))), j = (i + 1) % int(s.objects.size());
      const std::string rel = clear_relation(s.objects[i], s.objects[j]);
      auto a = unique_filters(s, i), b = unique_filters(s, j);
      if (rel.empty() || a.empty() || b.empty()) return std::nullopt;
      return "The " + a[0].noun() + " is " + rel + " the " + b[0].noun() + ".";
    }
  }
}

std::optional<std::string> contradiction(const Scene& s, Rng& rng) {
  switch (rng.below(4)) {
    case 0: return "There is " + with_article(absent_filter(s, rng).noun()) + " in the picture.";
    case 1: {
      int n;
      do n = 1 + int(rng.below(6));
      while (n == int(s.objects.size()));
      return "There " + std::string(n == 1 ? "is only one object" : "are " + number_word(n) + " objects") + " in the picture.";
    }
    case 2: {
      const int i = int(rng.below(int64_t(s.objects.size())));
      auto ref = refer_to(s, i, rng, "colour");
      if (!ref) return std::nullopt;
      std::string c;
      do c = rng.pick(Vocabulary::colours());
      while (c == s.objects[i].colour);
      return "The " + ref->text() + " is " + c + ".";
    }
    default: {
      if (s.objects.size() < 2) return std::nullopt;
      const int i = int(rng.below(int64_t(s.objects.size()))), j = (i + 1) % int(s.objects.size());
      auto a = unique_filters(s, i), b = unique_filters(s, j);
      if (a.empty() || b.empty()) return std::nullopt;
      std::vector<std::string> wrong;
      for (const auto& r : relations())
        if (!loosely(s.objects[i], r, s.objects[j])) wrong.push_back(r);
      return "The " + a[0].noun() + " is " + rng.pick(wrong) + " the " + b[0].noun() + ".";
    }
  }
}

std::optional<std::string> neutral(const Scene& s, Rng& rng) {
  static const std::vector<std::string> about_object = {
      "was put there by a child", "is a birthday present", "belongs to a teacher", "was bought yesterday",
      "is about to be picked up", "was made by hand", "has been there for a long time", "is someone's favourite toy",
      "will be moved soon", "was found in an old box"};
  static const std::vector<std::string> about_picture = {
      "The picture was made on a Sunday.", "Someone is standing just outside the picture.",
      "The picture was taken in the morning.", "A cat is sleeping behind the camera.",
      "The person who arranged the objects is tired."};
  if (rng.chance(0.25)) return rng.pick(about_picture);
  const int i = int(rng.below(int64_t(s.objects.size())));
  auto ref = refer_to(s, i, rng);
  if (!ref) return std::nullopt;
  return "The " + ref->text() + " " + rng.pick(about_object) + ".";
}

void write_split(const Context& c, const std::string& split, const std::string& kind, int64_t first_id) {
  Rng rng = c.stream("snli_ve/" + split);
  const int n = c.count("snli_ve_" + split);
  std::vector<ImageJob> jobs;
  std::vector<nlohmann::json> lines;
  std::map<std::string, int64_t> per_label;
  for (int k = 0; k < n; ++k) {
    const std::string id = std::to_string(first_id + k);
    Scene scene = sample_scene(rng, c.options.image_size, "photo", kind, c.options.max_objects);
    add_image(jobs, "snli_ve/flickr30k_images/" + id + ".png", scene, rng);
    const std::string premise = cap(coco_captions(scene, rng, 1)[0]);
    const std::string caption_id = id + ".jpg#0";
    std::vector<std::pair<std::string, std::string>> hyps;  // label, hypothesis
    for (const char* label : {"entailment", "neutral", "contradiction"}) {
      std::optional<std::string> h;
      for (int tries = 0; !h && tries < 20; ++tries) {
        const std::string l = label;
        h = l == "entailment" ? entailment(scene, rng) : l == "neutral" ? neutral(scene, rng) : contradiction(scene, rng);
      }
      if (h) hyps.push_back({label, *h});
    }
    for (size_t i = hyps.size(); i > 1; --i) std::swap(hyps[i - 1], hyps[rng.below(int64_t(i))]);
    for (const auto& [label, hyp] : hyps) {
      per_label[label]++;
      lines.push_back({{"Flickr30K_ID", id},
                       {"sentence1", premise},
                       {"sentence2", hyp},
                       {"gold_label", label},
                       {"annotator_labels", {label}},
                       {"pairID", caption_id + "r1" + label[0]},
                       {"captionID", caption_id}});
    }
  }
  c.render(jobs, "snli_ve", split);
  c.writer.write_jsonl("snli_ve/snli_ve_" + split + ".jsonl", lines);
  c.writer.count("snli_ve", split, "images", n);
  c.writer.count("snli_ve", split, "pairs", int64_t(lines.size()));
  for (const auto& [label, m] : per_label) c.writer.count("snli_ve", split, label, m);
}

}  // namespace

void write_snli_ve(const Context& c) {
  write_split(c, "train", "train", 1000000001);
  write_split(c, "dev", "any", 2000000001);
  write_split(c, "test", "any", 3000000001);
}

}  // namespace smoes::world
