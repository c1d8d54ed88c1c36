// COCO (captions + instances, photo domain) and Conceptual Captions (clip-art
// domain, alt-text), the captioning pair of the world.
#include <algorithm>

#include "world/datasets.h"
#include "world/render.h"
#include "world/text.h"

namespace smoes::world {

int category_id(const std::string& shape) {
  const auto& shapes = Vocabulary::shapes();
  return int(std::find(shapes.begin(), shapes.end(), shape) - shapes.begin()) + 1;
}

nlohmann::json coco_categories() {
  nlohmann::json cats = nlohmann::json::array();
  for (const auto& shape : Vocabulary::shapes())
    cats.push_back({{"id", category_id(shape)}, {"name", shape}, {"supercategory", "shape"}});
  return cats;
}

namespace {

// PACO-style attributes (Ramanathan et al. 2023 extend COCO/LVIS instances
// this way): a top-level list of {id, name, type} and each annotation's
// attribute_ids. Ids: the colours, then the materials, then the sizes.
const std::vector<std::pair<std::string, std::string>>& attribute_vocabulary() {
  static const auto v = [] {
    std::vector<std::pair<std::string, std::string>> names;
    for (const auto& c : Vocabulary::colours()) names.emplace_back(c, "color");
    for (const auto& m : Vocabulary::materials()) names.emplace_back(m, "material");
    for (const char* size : {"small", "large"}) names.emplace_back(size, "size");
    return names;
  }();
  return v;
}

nlohmann::json coco_attributes() {
  nlohmann::json out = nlohmann::json::array();
  const auto& v = attribute_vocabulary();
  for (size_t i = 0; i < v.size(); ++i) out.push_back({{"id", int(i)}, {"name", v[i].first}, {"type", v[i].second}});
  return out;
}

std::vector<int> attribute_ids(const Object& o) {
  const auto& v = attribute_vocabulary();
  std::vector<int> ids;
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i].first == o.colour || v[i].first == o.material || v[i].first == o.size) ids.push_back(int(i));
  return ids;
}

}  // namespace

int64_t annotation_id(int64_t image_id, size_t object_index) { return image_id * 100 + int64_t(object_index) + 1; }

nlohmann::json instance_annotation(const Scene& scene, size_t k, int64_t image_id) {
  const Object& o = scene.objects[k];
  return {{"id", annotation_id(image_id, k)},
          {"image_id", image_id},
          {"category_id", category_id(o.shape)},
          {"segmentation", nlohmann::json::array({outline(scene, o)})},
          {"area", area(scene, o)},
          {"bbox", bbox(scene, o)},
          {"attribute_ids", attribute_ids(o)},
          {"iscrowd", 0}};
}

nlohmann::json instances_document(const std::vector<SceneImage>& images, const std::string& description) {
  nlohmann::json imgs = nlohmann::json::array(), anns = nlohmann::json::array();
  for (const auto& im : images) {
    imgs.push_back({{"id", im.id}, {"file_name", im.file_name}, {"width", im.scene.width}, {"height", im.scene.height}});
    for (size_t k = 0; k < im.scene.objects.size(); ++k) anns.push_back(instance_annotation(im.scene, k, im.id));
  }
  return {{"info", {{"description", description}, {"version", kGeneratorVersion}}},
          {"licenses", nlohmann::json::array()},
          {"images", imgs},
          {"annotations", anns},
          {"categories", coco_categories()},
          {"attributes", coco_attributes()}};
}

namespace {

std::vector<SceneImage> write_coco_split(const Context& c, const std::string& split, const std::string& kind,
                                         int64_t first_id, int64_t& next_caption) {
  Rng rng = c.stream("coco/" + split);
  const int n = c.count("coco_" + split);
  std::vector<SceneImage> images;
  std::vector<ImageJob> jobs;
  nlohmann::json imgs = nlohmann::json::array(), anns = nlohmann::json::array();
  for (int i = 0; i < n; ++i) {
    const int64_t id = first_id + i;
    Scene scene = sample_scene(rng, c.options.image_size, "photo", kind, c.options.max_objects);
    std::string file = image_name(("COCO_" + split + "_%012lld.png").c_str(), id);
    add_image(jobs, "coco/images/" + split + "/" + file, scene, rng);
    imgs.push_back({{"id", id}, {"file_name", file}, {"width", scene.width}, {"height", scene.height}});
    for (const auto& caption : coco_captions(scene, rng))
      anns.push_back({{"id", next_caption++}, {"image_id", id}, {"caption", caption}});
    images.push_back({id, file, scene});
  }
  c.render(jobs, "coco", split);
  nlohmann::json doc = {{"info", {{"description", "smoes world: COCO-style captions"}, {"version", kGeneratorVersion}}},
                        {"licenses", nlohmann::json::array()},
                        {"images", imgs},
                        {"annotations", anns}};
  c.writer.write_json("coco/annotations/captions_" + split + ".json", doc);
  auto instances = instances_document(images, "smoes world: COCO-style instances (category = shape)");
  c.writer.write_json("coco/annotations/instances_" + split + ".json", instances);
  c.writer.count("coco", split, "images", n);
  c.writer.count("coco", split, "captions", int64_t(anns.size()));
  c.writer.count("coco", split, "instances", int64_t(instances["annotations"].size()));
  return images;
}

// Conceptual Captions: "caption<TAB>url" per line; the url is the image's path relative to cc/.
void write_cc_split(const Context& c, const std::string& split, const std::string& tsv) {
  Rng rng = c.stream("cc/" + split);
  const int n = c.count("cc_" + split);
  std::vector<ImageJob> jobs;
  std::string lines;
  for (int i = 0; i < n; ++i) {
    Scene scene = sample_scene(rng, c.options.image_size, "clipart", "any", c.options.max_objects);
    std::string rel = "images/" + split + "/" + image_name("%08lld.png", i);
    add_image(jobs, "cc/" + rel, scene, rng);
    lines += alt_text(scene, rng) + "\t" + rel + "\n";
  }
  c.render(jobs, "cc", split);
  c.writer.write("cc/" + tsv, lines);
  c.writer.count("cc", split, "pairs", n);
}

}  // namespace

std::map<std::string, std::vector<SceneImage>> write_coco(const Context& c) {
  std::map<std::string, std::vector<SceneImage>> out;
  int64_t next_image = 1, next_caption = 1;
  for (auto [split, kind] : {std::pair{"train2014", "train"}, {"val2014", "any"}, {"heldout2014", "heldout"}}) {
    out[split] = write_coco_split(c, split, kind, next_image, next_caption);
    next_image += int64_t(out[split].size());
  }
  return out;
}

void write_cc(const Context& c) {
  write_cc_split(c, "train", "Train_GCC-training.tsv");
  write_cc_split(c, "val", "Validation_GCC-1.1.0-Validation.tsv");
}

}  // namespace smoes::world
