// Every task reads its official download as it unpacks, through the registry:
// each test lays a tiny fixture out as the archives do (annotation files
// copied from tests/fixtures/data or written here, image folders created
// empty or holding one PNG) and checks the examples and the image folder
// they name. The world's layout is covered by the other task tests.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "tasks/tasks.h"
#include "world/render.h"
#include "../error_of.h"

using namespace smoes;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

fs::path fresh_root(const std::string& name) {
  auto root = fs::temp_directory_path() / ("smoes_official_layouts_" + name);
  fs::remove_all(root);
  fs::create_directories(root);
  return root;
}

void write(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << text;
}

void write_png(const fs::path& file) { write(file, world::encode_png(std::vector<uint8_t>(2 * 2 * 3, 128), 2, 2)); }

// tests/fixtures/data/<from> copied to <root>/<to>.
void copy_fixture(const std::string& from, const fs::path& root, const std::string& to) {
  fs::create_directories((root / to).parent_path());
  fs::copy_file(std::string(SMOES_FIXTURES_DIR) + "/data/" + from, root / to);
}

std::vector<data::Example> load(const std::string& task, const fs::path& root, const std::string& split) {
  return tasks::find_task(task).load(root.string(), split, /*strict=*/true, nullptr);
}

// The folder every image of every example sits in.
std::set<std::string> image_dirs(const std::vector<data::Example>& examples) {
  std::set<std::string> out;
  for (const auto& ex : examples)
    for (const auto& p : ex.image_paths) out.insert(fs::path(p).parent_path().string());
  return out;
}

std::set<std::string> dirs(std::initializer_list<fs::path> paths) {
  std::set<std::string> out;
  for (const auto& p : paths) out.insert(p.string());
  return out;
}

json coco_captions_doc() {
  return {{"images", {{{"id", 7}, {"file_name", "COCO_val2014_000000000007.jpg"}, {"width", 4}, {"height", 4}}}},
          {"annotations", {{{"id", 1}, {"image_id", 7}, {"caption", "a red cube"}}}}};
}

json coco_instances_doc() {
  return {{"images", {{{"id", 7}, {"file_name", "COCO_val2014_000000000007.jpg"}, {"width", 4}, {"height", 4}}}},
          {"annotations",
           {{{"id", 1}, {"image_id", 7}, {"bbox", {0, 0, 2, 2}}, {"category_id", 1}, {"area", 4}, {"iscrowd", 0}}}},
          {"categories", {{{"id", 1}, {"name", "cube"}}}}};
}

}  // namespace

// annotations_trainval2014.zip + val2014.zip unpacked in ROOT, and in ROOT/coco.
TEST(OfficialLayouts, CocoAsTheZipsUnpack) {
  for (const std::string folder : {"", "coco"}) {
    auto root = fresh_root("coco" + folder), coco = root / folder;
    write(coco / "annotations/captions_val2014.json", coco_captions_doc().dump());
    write(coco / "annotations/instances_val2014.json", coco_instances_doc().dump());
    write_png(coco / "val2014/COCO_val2014_000000000007.jpg");
    auto captions = load("coco_captions", root, "val");
    ASSERT_EQ(captions.size(), 1u) << folder;
    EXPECT_EQ(captions[0].targets, std::vector<std::string>{"a red cube"});
    EXPECT_EQ(captions[0].image_paths, std::vector<std::string>{(coco / "val2014/COCO_val2014_000000000007.jpg").string()});
    auto detection = load("coco_detection", root, "val");
    ASSERT_EQ(detection.size(), 1u);
    ASSERT_EQ(detection[0].objects.size(), 1u);
    EXPECT_EQ(detection[0].objects[0].label, "cube");
    EXPECT_EQ(image_dirs(detection), dirs({coco / "val2014"}));
  }
}

// The world's coco/images/<split> wins when both image folders are there.
TEST(OfficialLayouts, CocoPrefersTheWorldsImagesWhenBothExist) {
  auto root = fresh_root("coco_both");
  write(root / "coco/annotations/captions_val2014.json", coco_captions_doc().dump());
  fs::create_directories(root / "coco/images/val2014");
  fs::create_directories(root / "coco/val2014");
  EXPECT_EQ(image_dirs(load("coco_captions", root, "val")), dirs({root / "coco/images/val2014"}));
}

// The TSVs as downloaded, in ROOT; the image column is relative to the TSV.
TEST(OfficialLayouts, ConceptualCaptionsTsvInRoot) {
  auto root = fresh_root("cc");
  write(root / "Validation_GCC-1.1.0-Validation.tsv", "a dog on a beach\timages/0.jpg\n");
  auto examples = load("cc", root, "val");
  ASSERT_EQ(examples.size(), 1u);
  EXPECT_EQ(examples[0].image_paths, std::vector<std::string>{(root / "images/0.jpg").string()});
}

// ROOT = REFER's data/ folder: refcoco/ and images/mscoco/images/train2014/.
TEST(OfficialLayouts, ReferDataFolder) {
  auto root = fresh_root("refer");
  for (const char* file : {"refs(unc).p", "instances.json"})
    copy_fixture(std::string("refcoco/refcoco/") + file, root, std::string("refcoco/") + file);
  fs::create_directories(root / "images/mscoco/images/train2014");
  auto examples = load("refcoco", root, "val");
  ASSERT_FALSE(examples.empty());
  EXPECT_EQ(image_dirs(examples), dirs({root / "images/mscoco/images/train2014"}));
}

// mdetr_annotations.tar.gz next to COCO's train2014/.
TEST(OfficialLayouts, MdetrWithCocoTrain2014) {
  auto root = fresh_root("mdetr");
  copy_fixture("refcoco/mdetr/finetune_refcoco_val.json", root, "mdetr_annotations/finetune_refcoco_val.json");
  fs::create_directories(root / "train2014");
  auto examples = load("refcoco_mdetr", root, "val");
  ASSERT_FALSE(examples.empty());
  EXPECT_EQ(image_dirs(examples), dirs({root / "train2014"}));
}

// The VQA zips unpacked in ROOT with COCO's val2014/, and the VQA API's
// Questions/, Annotations/, Images/mscoco/val2014/.
TEST(OfficialLayouts, VqaV2ZipsAndVqaApi) {
  auto root = fresh_root("vqa");
  copy_fixture("vqa/v2_OpenEnded_mscoco_val2014_questions.json", root, "v2_OpenEnded_mscoco_val2014_questions.json");
  copy_fixture("vqa/v2_mscoco_val2014_annotations.json", root, "v2_mscoco_val2014_annotations.json");
  fs::create_directories(root / "val2014");
  auto examples = load("vqa_v2", root, "val");
  ASSERT_FALSE(examples.empty());
  EXPECT_EQ(examples[0].targets.size(), 10u);
  EXPECT_EQ(image_dirs(examples), dirs({root / "val2014"}));

  auto api = fresh_root("vqa_api");
  copy_fixture("vqa/v2_OpenEnded_mscoco_val2014_questions.json", api, "Questions/v2_OpenEnded_mscoco_val2014_questions.json");
  copy_fixture("vqa/v2_mscoco_val2014_annotations.json", api, "Annotations/v2_mscoco_val2014_annotations.json");
  EXPECT_EQ(image_dirs(load("vqa_v2", api, "val")), dirs({api / "Images/mscoco/val2014"}));
}

// VQA-CP's files in vqacp/, COCO unpacked in coco/: each record's coco_split names the folder.
TEST(OfficialLayouts, VqaCpWithCocoFolders) {
  auto root = fresh_root("vqacp");
  for (const char* kind : {"questions", "annotations"}) {
    std::string file = std::string("vqacp_v2_test_") + kind + ".json";
    copy_fixture("vqacp/" + file, root, "vqacp/" + file);
  }
  fs::create_directories(root / "coco/train2014");
  fs::create_directories(root / "coco/val2014");
  auto examples = load("vqa_cp", root, "test");
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(image_dirs(examples), dirs({root / "coco/train2014", root / "coco/val2014"}));
}

// questions1.2.zip and images.zip unpacked in ROOT/gqa, and in ROOT.
TEST(OfficialLayouts, GqaZips) {
  for (const std::string folder : {"gqa", ""}) {
    auto root = fresh_root("gqa" + folder), gqa = root / folder;
    copy_fixture("gqa/testdev_balanced_questions.json", gqa, "testdev_balanced_questions.json");
    fs::create_directories(gqa / "images");
    auto examples = load("gqa", root, "test");
    EXPECT_EQ(examples.size(), 3u) << folder;
    EXPECT_EQ(image_dirs(examples), dirs({gqa / "images"}));
  }
}

// ROOT = a lil-lab/nlvr clone's folder: nlvr2/data/<split>.json; the image
// zips unpacked in ROOT: images/train/<directory>/, dev/.
TEST(OfficialLayouts, Nlvr2RepositoryAndImageZips) {
  auto root = fresh_root("nlvr2");
  copy_fixture("nlvr2/dev.json", root, "nlvr2/data/dev.json");
  copy_fixture("nlvr2/train.json", root, "nlvr2/data/train.json");
  write_png(root / "dev/dev-850-0-img0.png");
  auto dev = load("nlvr2", root, "val");
  ASSERT_FALSE(dev.empty());
  EXPECT_EQ(dev[0].image_paths[0], (root / "dev/dev-850-0-img0.png").string());
  EXPECT_EQ(image_dirs(dev), dirs({root / "dev"}));
  write_png(root / "images/train/34/train-10171-0-img0.png");
  auto train = load("nlvr2", root, "train");
  ASSERT_FALSE(train.empty());
  EXPECT_EQ(train[0].image_paths[0], (root / "images/train/34/train-10171-0-img0.png").string());
}

// snli_ve_<split>.jsonl in ROOT, Flickr30k's flickr30k-images/ (hyphen).
TEST(OfficialLayouts, SnliVeWithFlickr30kImages) {
  auto root = fresh_root("snli_ve");
  copy_fixture("snli_ve/snli_ve_dev.jsonl", root, "snli_ve_dev.jsonl");
  fs::create_directories(root / "flickr30k-images");
  auto examples = load("snli_ve", root, "val");
  ASSERT_FALSE(examples.empty());
  EXPECT_EQ(image_dirs(examples), dirs({root / "flickr30k-images"}));
}

// vcr1annots/<split>.jsonl and vcr1images/ in ROOT.
TEST(OfficialLayouts, VcrZips) {
  auto root = fresh_root("vcr");
  copy_fixture("vcr/val.jsonl", root, "vcr1annots/val.jsonl");
  fs::create_directories(root / "vcr1images");
  for (const char* task : {"vcr_qa", "vcr_qar"}) {
    auto examples = load(task, root, "val");
    ASSERT_FALSE(examples.empty()) << task;
    for (const auto& ex : examples)
      EXPECT_EQ(ex.image_paths[0].rfind((root / "vcr1images").string() + "/", 0), 0u) << ex.image_paths[0];
  }
}

// A-OKVQA's README: datasets/aokvqa/ and COCO 2017 in datasets/coco/val2017/.
TEST(OfficialLayouts, AokvqaDatasetsFolder) {
  auto root = fresh_root("aokvqa");
  copy_fixture("aokvqa/aokvqa_v1p0_val.json", root, "datasets/aokvqa/aokvqa_v1p0_val.json");
  fs::create_directories(root / "datasets/coco/val2017");
  for (const char* task : {"aokvqa", "aokvqa_da"}) {
    auto examples = load(task, root, "val");
    EXPECT_EQ(examples.size(), 2u) << task;
    EXPECT_EQ(image_dirs(examples), dirs({root / "datasets/coco/val2017"}));
  }
  EXPECT_EQ(load("aokvqa", root, "val")[0].image_paths[0], (root / "datasets/coco/val2017/000000461751.jpg").string());
}

// Neither layout: the error names the task, the split and every file tried.
TEST(OfficialLayouts, NoLayoutNamesEveryPathTried) {
  auto root = fresh_root("empty").string();
  auto msg = error_of([&] { tasks::find_task("vqa_v2").load(root, "val", true, nullptr); });
  EXPECT_NE(msg.find("vqa_v2 val"), std::string::npos) << msg;
  for (const char* rel : {"/vqa/v2_OpenEnded_mscoco_val2014_questions.json", "/v2_mscoco_val2014_annotations.json",
                          "/Questions/v2_OpenEnded_mscoco_val2014_questions.json"})
    EXPECT_NE(msg.find(root + rel), std::string::npos) << rel << " in " << msg;
  msg = error_of([&] { tasks::find_task("coco_captions").load(root, "val", true, nullptr); });
  EXPECT_NE(msg.find(root + "/coco/annotations/captions_val2014.json"), std::string::npos) << msg;
  EXPECT_NE(msg.find(root + "/annotations/captions_val2014.json"), std::string::npos) << msg;
  msg = error_of([&] { tasks::find_task("aokvqa").load(root, "val", true, nullptr); });
  EXPECT_NE(msg.find(root + "/datasets/aokvqa/aokvqa_v1p0_val.json"), std::string::npos) << msg;
}
