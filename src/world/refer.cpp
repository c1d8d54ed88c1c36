// RefCOCO (UNC splits) over the COCO train2014 scenes, in the refer API's
// files (refcoco/refs(unc).p, a protocol-2 pickle, + refcoco/instances.json)
// and in MDETR's finetune_refcoco_<split>.json. Every expression picks out
// its object alone (checked with `resolve` while generating).
//
// Splits are by image: of every 20 eligible images (2+ objects) in order, 16
// go to train, 2 to val and 2 to test. A test image goes to testA when its
// referred objects are circles (the "people" of this world: one category
// that dominates testA, as people do in the real testA) and to testB when
// they are other shapes; an image that has referable objects of both kinds
// goes to whichever of testA/testB has fewer images so far.
#include <algorithm>

#include "data/pickle.h"
#include "world/datasets.h"
#include "world/query.h"

namespace smoes::world {

namespace {

struct Expression {
  std::string raw, sent;
  std::string target_phrase;  // the target's own noun phrase inside sent (MDETR tokens_positive)
};

struct RefRecord {
  int64_t ref_id, ann_id, image_id;
  std::string split, file_name;
  int category_id;
  std::vector<int64_t> sent_ids;
  std::vector<Expression> sentences;
  std::vector<double> bbox;
  double area;
};

// Two or three different unambiguous expressions for object i (annotators
// word them differently: attributes, a relation, a superlative), or none.
std::vector<Expression> expressions(const Scene& s, int i, Rng& rng) {
  std::vector<Ref> refs;
  for (int tries = 0; tries < 3; ++tries)
    if (auto r = refer_to(s, i, rng)) refs.push_back(*r);
  if (auto r = relational_ref(s, i, rng)) refs.push_back(*r);
  if (auto r = superlative_ref(s, i)) refs.push_back(*r);
  std::vector<Expression> out;
  std::vector<std::string> texts;
  const size_t want = 2 + size_t(rng.below(2));
  for (size_t k = 0; k < refs.size() && out.size() < want; ++k) {
    if (resolve(s, refs[k]) != std::vector<int>{i}) continue;
    const std::string text = refs[k].text();
    if (std::find(texts.begin(), texts.end(), text) != texts.end()) continue;
    texts.push_back(text);
    const std::string sent = rng.chance(0.4) ? "the " + text : text;
    std::string raw = sent;
    if (rng.chance(0.5)) raw[0] = char(std::toupper((unsigned char)raw[0]));
    if (rng.chance(0.3)) raw += ".";
    std::string phrase = refs[k].superlative.empty() ? refs[k].target.noun() : text;
    out.push_back({raw, sent, phrase});
  }
  return out;
}

bool is_test_a_object(const Object& o) { return o.shape == "circle"; }

nlohmann::json ref_json(const RefRecord& r, int64_t first_sent_id) {
  nlohmann::json sentences = nlohmann::json::array();
  for (size_t k = 0; k < r.sentences.size(); ++k)
    sentences.push_back({{"tokens", word_tokens(r.sentences[k].sent)},
                         {"raw", r.sentences[k].raw},
                         {"sent_id", first_sent_id + int64_t(k)},
                         {"sent", r.sentences[k].sent}});
  return {{"ref_id", r.ref_id},
          {"ann_id", r.ann_id},
          {"image_id", r.image_id},
          {"split", r.split},
          {"sent_ids", r.sent_ids},
          {"file_name", r.file_name},
          {"category_id", r.category_id},
          {"sentences", sentences}};
}

// MDETR's COCO-style file: one image record per expression.
nlohmann::json mdetr_document(const std::vector<RefRecord>& refs, const std::string& split,
                              const std::map<int64_t, const SceneImage*>& by_id) {
  nlohmann::json images = nlohmann::json::array(), anns = nlohmann::json::array();
  int64_t next = 0;
  for (const auto& r : refs) {
    if (r.split != split) continue;
    const SceneImage& im = *by_id.at(r.image_id);
    for (size_t k = 0; k < r.sentences.size(); ++k, ++next) {
      const auto& e = r.sentences[k];
      const size_t at = e.sent.find(e.target_phrase);
      const nlohmann::json span = nlohmann::json::array({at, at + e.target_phrase.size()});
      images.push_back({{"id", next},
                        {"file_name", im.file_name},
                        {"height", im.scene.height},
                        {"width", im.scene.width},
                        {"caption", e.sent},
                        {"original_id", r.image_id},
                        {"dataset_name", "refcoco"},
                        {"tokens_negative", nlohmann::json::array({nlohmann::json::array({0, e.sent.size()})})},
                        {"tokens_positive_eval", nlohmann::json::array({nlohmann::json::array({span})})},
                        {"sentence_id", k},
                        {"ref_id", r.ref_id}});
      anns.push_back({{"id", next},
                      {"image_id", next},
                      {"bbox", r.bbox},
                      {"area", r.area},
                      {"iscrowd", 0},
                      {"category_id", r.category_id},
                      {"original_id", r.ann_id},
                      {"tokens_positive", nlohmann::json::array({span})}});
    }
  }
  return {{"info", {{"description", "smoes world: MDETR refcoco " + split}, {"version", kGeneratorVersion}}},
          {"images", images},
          {"annotations", anns},
          {"categories", coco_categories()}};
}

}  // namespace

void write_refcoco(const Context& c, const std::vector<SceneImage>& train2014) {
  Rng rng = c.stream("refcoco");
  std::vector<RefRecord> refs;
  std::vector<SceneImage> used;
  std::map<int64_t, const SceneImage*> by_id;
  int64_t next_sent = 0, eligible = 0, test_a_images = 0, test_b_images = 0;
  for (const auto& im : train2014) {
    const Scene& s = im.scene;
    if (s.objects.size() < 2) continue;
    const int64_t slot = eligible++ % 20;
    std::string split = slot < 16 ? "train" : slot < 18 ? "val" : "test";
    // Candidate objects and their expressions.
    std::vector<std::pair<int, std::vector<Expression>>> candidates;
    for (size_t i = 0; i < s.objects.size(); ++i) {
      auto exprs = expressions(s, int(i), rng);
      if (!exprs.empty()) candidates.push_back({int(i), exprs});
    }
    if (split == "test") {
      bool any_a = false, any_b = false;
      for (const auto& [i, e] : candidates) (is_test_a_object(s.objects[i]) ? any_a : any_b) = true;
      if (!any_a && !any_b) continue;
      const bool a = any_a && (!any_b || test_a_images <= test_b_images);
      split = a ? "testA" : "testB";
      (a ? test_a_images : test_b_images)++;
      candidates.erase(std::remove_if(candidates.begin(), candidates.end(),
                                      [&](const auto& cand) { return is_test_a_object(s.objects[cand.first]) != a; }),
                       candidates.end());
    }
    if (candidates.empty()) continue;
    for (size_t i = candidates.size(); i > 1; --i) std::swap(candidates[i - 1], candidates[rng.below(int64_t(i))]);
    candidates.resize(std::min<size_t>(candidates.size(), 3));
    std::sort(candidates.begin(), candidates.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    for (auto& [i, exprs] : candidates) {
      RefRecord r{int64_t(refs.size()), annotation_id(im.id, size_t(i)), im.id, split,
                  image_name(("COCO_train2014_%012lld_" + std::to_string(annotation_id(im.id, size_t(i))) + ".png").c_str(), im.id),
                  category_id(s.objects[i].shape), {}, exprs, bbox(s, s.objects[i]), area(s, s.objects[i])};
      for (size_t k = 0; k < exprs.size(); ++k) r.sent_ids.push_back(next_sent + int64_t(k));
      refs.push_back(r);
      next_sent += int64_t(exprs.size());
    }
    used.push_back(im);
  }
  for (const auto& im : used) by_id[im.id] = &im;

  nlohmann::json pickled = nlohmann::json::array();
  std::map<std::string, std::map<std::string, int64_t>> counts;
  for (const auto& r : refs) {
    pickled.push_back(ref_json(r, r.sent_ids.front()));
    counts[r.split]["refs"]++;
    counts[r.split]["sentences"] += int64_t(r.sentences.size());
  }
  c.writer.write("refcoco/refs(unc).p", data::pickle(pickled));
  c.writer.write_json("refcoco/instances.json", instances_document(used, "smoes world: RefCOCO instances"));
  for (const char* split : {"train", "val", "testA", "testB"}) {
    c.writer.write_json(std::string("mdetr/finetune_refcoco_") + split + ".json", mdetr_document(refs, split, by_id));
    for (const char* what : {"refs", "sentences"}) c.writer.count("refcoco", split, what, counts[split][what]);
  }
}

}  // namespace smoes::world
