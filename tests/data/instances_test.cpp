// COCO instances as a detection task: hand-made file, the world's files, bad records.
#include <gtest/gtest.h>

#include "data/instances.h"
#include "loader_test_util.h"

using namespace loader_test;

namespace {

// A COCO-layout root holding `doc` as annotations/instances_val2014.json.
std::string root_with(const std::string& name, const std::string& text) {
  auto root = temp_dir("instances_" + name);
  fs::create_directories(root + "/annotations");
  write_text(root + "/annotations/instances_val2014.json", text);
  return root;
}

}  // namespace

TEST(CocoInstances, ObjectsCarryCategoryNamesBoxesAndImageSize) {
  auto root = root_with("small", read_file(fixture("instances_small.json")));
  auto examples = data::load_coco_instances(root, "val2014");
  ASSERT_EQ(examples.size(), 2u);
  const auto& a = examples[0];
  EXPECT_EQ(a.task, "coco_detection");
  EXPECT_EQ(a.id, "7");
  EXPECT_EQ(a.image_paths, std::vector<std::string>{(fs::path(root) / "images" / "val2014" / "a.png").string()});
  EXPECT_EQ(a.prompt, data::kDetectionPrompt);
  EXPECT_EQ(a.image_width, 64);
  EXPECT_EQ(a.image_height, 48);
  ASSERT_EQ(a.objects.size(), 2u);
  EXPECT_EQ(a.objects[0].label, "square");
  EXPECT_EQ(a.objects[0].box, (std::vector<double>{10, 12.5, 20, 8}));
  EXPECT_EQ(a.objects[0].category, 2);
  EXPECT_EQ(a.objects[0].polygons, (std::vector<std::vector<double>>{{10, 12.5, 30, 12.5, 30, 20.5, 10, 20.5}}));
  EXPECT_EQ(a.objects[0].attributes, (std::vector<int>{0, 3}));  // PACO-style attribute_ids
  EXPECT_TRUE(a.objects[1].attributes.empty());
  EXPECT_EQ(a.objects[1].label, "circle");
  EXPECT_EQ(a.objects[1].category, 1);
  EXPECT_TRUE(a.objects[1].polygons.empty());  // a crowd's RLE mask: the box stands in
  EXPECT_TRUE(examples[1].objects.empty());  // an image without objects is kept
}

TEST(CocoInstances, LabelNamesMapTheFilesIdsToTheirNames) {
  auto root = root_with("names", read_file(fixture("instances_small.json")));
  auto names = data::load_coco_label_names(root, "val2014");
  EXPECT_EQ(names.categories, (std::map<int, std::string>{{1, "circle"}, {2, "square"}}));
  EXPECT_EQ(names.attributes, (std::map<int, std::string>{{0, "red"}, {3, "wood"}}));
  auto doc = json::parse(read_file(fixture("instances_small.json")));
  doc["categories"][1]["name"] = "";
  auto msg = error_of([&] { data::load_coco_label_names(root_with("badname", doc.dump()), "val2014"); });
  EXPECT_NE(msg.find("categories[1]: field 'name'"), std::string::npos) << msg;
}

TEST(CocoInstances, TheWorldsFilesLoadWithEveryAnnotation) {
  const auto& root = world_dir();
  auto examples = data::load_coco_instances(root + "/coco", "train2014");
  auto doc = json::parse(read_file(root + "/coco/annotations/instances_train2014.json"));
  size_t objects = 0;
  for (const auto& ex : examples) {
    objects += ex.objects.size();
    EXPECT_TRUE(fs::exists(ex.image_paths[0]));
    for (const auto& o : ex.objects) {  // one colour (ids 0-7), one material (8-11), one size (12-13)
      ASSERT_EQ(o.attributes.size(), 3u);
      EXPECT_LT(o.attributes[0], 8);
      EXPECT_TRUE(o.attributes[1] >= 8 && o.attributes[1] < 12);
      EXPECT_GE(o.attributes[2], 12);
    }
  }
  EXPECT_EQ(doc["attributes"].size(), 14u);
  EXPECT_EQ(examples.size(), doc["images"].size());
  EXPECT_EQ(objects, doc["annotations"].size());
}

TEST(CocoInstances, BadRecordsAreNamedOrSkipped) {
  auto doc = json::parse(read_file(fixture("instances_small.json")));
  doc["annotations"][1]["bbox"] = {30, 2, 0, 5};
  auto root = root_with("bad", doc.dump());
  auto msg = error_of([&] { data::load_coco_instances(root, "val2014"); });
  EXPECT_NE(msg.find("instances_val2014.json: annotations[1]: field 'bbox'"), std::string::npos) << msg;
  data::LoadReport report;
  auto examples = data::load_coco_instances(root, "val2014", /*strict=*/false, &report);
  EXPECT_EQ(report.skipped, 1u);
  EXPECT_EQ(examples[0].objects.size(), 1u);
  doc["annotations"][0]["segmentation"] = {{1, 2, 3}};  // an odd number of coordinates
  msg = error_of([&] { data::load_coco_instances(root_with("badseg", doc.dump()), "val2014"); });
  EXPECT_NE(msg.find("annotations[0]: field 'segmentation'"), std::string::npos) << msg;
  doc["annotations"][0]["segmentation"] = json::array();
  doc["annotations"][0]["attribute_ids"] = {0, 5};  // 5 is not among the file's attributes
  msg = error_of([&] { data::load_coco_instances(root_with("badattr", doc.dump()), "val2014"); });
  EXPECT_NE(msg.find("annotations[0]: field 'attribute_ids'"), std::string::npos) << msg;
  doc["annotations"][0]["attribute_ids"] = {0};
  doc["attributes"][1]["id"] = -3;
  msg = error_of([&] { data::load_coco_instances(root_with("badattrlist", doc.dump()), "val2014"); });
  EXPECT_NE(msg.find("attributes[1]: field 'id'"), std::string::npos) << msg;
  EXPECT_NE(error_of([&] { data::load_coco_instances(root_with("list", "[]"), "val2014"); }).find("COCO instances"),
            std::string::npos);
}

TEST(CocoInstances, NoMutatedRecordCrashesTheLoader) {
  auto root = temp_dir("instances_fuzz");
  fs::create_directories(root + "/annotations");
  const auto file = root + "/annotations/instances_val2014.json";
  auto lists_intact = [](const json& m) {
    if (!m.is_object()) return false;
    for (const char* key : {"images", "annotations", "categories"})
      if (!m.contains(key) || !m[key].is_array()) return false;
    return true;
  };
  size_t runs = 0;
  for (const json& m : mutations(json::parse(read_file(fixture("instances_small.json"))))) {
    write_text(file, m.dump());
    try {
      data::load_coco_instances(root, "val2014");
    } catch (const Error&) {
    }
    // Tolerant mode skips bad records; only a file without the three lists is an error.
    data::LoadReport report;
    try {
      data::load_coco_instances(root, "val2014", /*strict=*/false, &report);
      EXPECT_LE(report.skipped, report.records);
    } catch (const Error&) {
      EXPECT_FALSE(lists_intact(m)) << "tolerant mode threw on " << m.dump();
    }
    ++runs;
  }
  EXPECT_GT(runs, 100u);
}
