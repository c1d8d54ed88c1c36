// The referring-expression tasks read through the registry, over roots laid
// out as the published files unpack: REFER's (copied from the fixtures) and
// MDETR's (written here).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "../error_of.h"
#include "core/files.h"
#include "tasks/tasks.h"

using namespace smoes;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string fresh_refexp_root(const std::string& name) {
  auto root = fs::temp_directory_path() / ("smoes_refexp_tasks_" + name);
  fs::remove_all(root);
  return root.string();
}

// A fresh root holding the REFER fixture as <dataset>/<refs> + <dataset>/instances.json.
std::string refer_root(const std::string& name, const std::string& dataset = "refcoco",
                       const std::string& refs = "refs(unc).p") {
  fs::path root = fresh_refexp_root(name);
  fs::create_directories(root / dataset);
  for (const std::string file : {refs, std::string("instances.json")})
    fs::copy_file(std::string(SMOES_FIXTURES_DIR) + "/data/refcoco/refcoco/" + file, root / dataset / file);
  return root.string();
}

struct Expression {
  int64_t coco_id;
  std::string caption;
  std::vector<double> box;
};

std::string coco_train_name(int64_t coco_id) {
  char name[64];
  std::snprintf(name, sizeof name, "COCO_train2014_%012lld.jpg", static_cast<long long>(coco_id));
  return name;
}

// <root>/<dir>/finetune_<dataset>_<split>.json as MDETR writes it: one image
// record per expression (numbered from 0 in each file) and its one box.
void write_mdetr(const std::string& root, const std::string& dir, const std::string& dataset, const std::string& split,
                 const std::vector<Expression>& expressions) {
  json images = json::array(), annotations = json::array();
  for (size_t i = 0; i < expressions.size(); ++i) {
    const auto& e = expressions[i];
    images.push_back({{"id", i},
                      {"file_name", coco_train_name(e.coco_id)},
                      {"height", 480},
                      {"width", 640},
                      {"caption", e.caption},
                      {"original_id", e.coco_id},
                      {"dataset_name", dataset},
                      {"tokens_negative", {{0, e.caption.size()}}}});
    annotations.push_back({{"id", i},
                           {"image_id", i},
                           {"bbox", e.box},
                           {"area", e.box[2] * e.box[3]},
                           {"iscrowd", 0},
                           {"category_id", 1},
                           {"tokens_positive", {{0, 3}}}});
  }
  fs::create_directories(fs::path(root) / dir);
  write_file_atomic(root + "/" + dir + "/finetune_" + dataset + "_" + split + ".json",
                    json{{"images", images}, {"annotations", annotations}, {"categories", json::array()}}.dump());
}

std::vector<std::string> sentences(const std::vector<data::Example>& examples) {
  std::vector<std::string> out;
  for (const auto& ex : examples) out.push_back(ex.meta.at("sentence"));
  return out;
}

}  // namespace

TEST(RefexpTasks, RefcocoSplitsGoByTheirRealNamesAndTestIsTestAPlusTestB) {
  const auto& task = tasks::find_task("refcoco");
  auto root = refer_root("refcoco_splits");
  using List = std::vector<std::string>;
  EXPECT_EQ(sentences(task.load(root, "test", true, nullptr)), (List{"dog", "person in the corner"}));
  EXPECT_EQ(sentences(task.load(root, "testA", true, nullptr)), List{"person in the corner"});
  EXPECT_EQ(sentences(task.load(root, "testB", true, nullptr)), List{"dog"});
  EXPECT_EQ(sentences(task.load(root, "val", true, nullptr)).size(), 2u);
  // "test" already holds testB: its images stay out of training through it.
  EXPECT_EQ(task.eval_splits, (List{"val", "test"}));
}

TEST(RefexpTasks, RefcocoPlusAndRefcocogReadTheirReferPickles) {
  using List = std::vector<std::string>;
  auto plus = tasks::find_task("refcoco+").load(refer_root("refcoco_plus", "refcoco+"), "test", true, nullptr);
  EXPECT_EQ(sentences(plus), (List{"dog", "person in the corner"}));
  for (const auto& ex : plus) EXPECT_EQ(ex.task, "refcoco+");
  // RefCOCOg's UMD split: refs(umd).p, one split named test.
  auto g = tasks::find_task("refcocog").load(refer_root("refcocog", "refcocog", "refs(umd).p"), "test", true, nullptr);
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0].id, "7");
  EXPECT_EQ(g[0].meta.at("sentence"), "the chair");
  EXPECT_EQ(g[0].task, "refcocog");
  // Looked for in its own folder, by its own split file.
  std::string msg = error_of(
      [] { tasks::find_task("refcocog").load(refer_root("refcocog_unc", "refcocog"), "test", true, nullptr); });
  EXPECT_NE(msg.find("refcocog/refs(umd).p"), std::string::npos) << msg;
}

TEST(RefexpTasks, MdetrFilesLoadThroughTheirTasks) {
  auto root = fresh_refexp_root("mdetr");
  write_mdetr(root, "mdetr_annotations", "refcoco", "val",
              {{101, "man on left", {10.5, 20, 100, 50.25}}, {102, "dog", {300, 40, 80, 120}}});
  write_mdetr(root, "mdetr_annotations", "refcoco", "testA", {{103, "person in the corner", {5, 5, 10, 10}}});
  write_mdetr(root, "mdetr_annotations", "refcoco", "testB", {{104, "white car", {1, 2, 3, 4}}});
  const auto& task = tasks::find_task("refcoco_mdetr");
  EXPECT_EQ(task.kind, tasks::Kind::kGrounding);
  auto val = task.load(root, "val", true, nullptr);
  ASSERT_EQ(val.size(), 2u);
  EXPECT_EQ(val[0].task, "refcoco_mdetr");
  EXPECT_EQ(val[0].id, "0");
  EXPECT_EQ(val[0].prompt, "<image>\nWhere is: man on left?");
  EXPECT_EQ(val[0].box, (std::vector<double>{10.5, 20, 100, 50.25}));
  EXPECT_EQ(val[0].image_width, 640);
  EXPECT_EQ(val[0].image_height, 480);
  EXPECT_EQ(val[0].image_paths,
            std::vector<std::string>{(fs::path(root) / "coco/images/train2014" / coco_train_name(101)).string()});
  EXPECT_EQ(val[0].meta.at("image_id"), "101");
  EXPECT_EQ(val[0].meta.at("split"), "val");
  EXPECT_EQ(val[1].meta.at("sentence"), "dog");
  EXPECT_EQ(val[1].box, (std::vector<double>{300, 40, 80, 120}));

  // test = testA + testB; both files count from 0, so the ids carry the split.
  auto test = task.load(root, "test", true, nullptr);
  ASSERT_EQ(test.size(), 2u);
  EXPECT_EQ(test[0].id, "testA/0");
  EXPECT_EQ(test[0].meta.at("sentence"), "person in the corner");
  EXPECT_EQ(test[1].id, "testB/0");
  EXPECT_EQ(test[1].meta.at("sentence"), "white car");
  EXPECT_EQ(test[1].box, (std::vector<double>{1, 2, 3, 4}));
  auto test_b = task.load(root, "testB", true, nullptr);
  ASSERT_EQ(test_b.size(), 1u);
  EXPECT_EQ(test_b[0].id, "0");
  EXPECT_EQ(test_b[0].meta.at("split"), "testB");
}

TEST(RefexpTasks, MdetrRefcocoPlusAndRefcocogHaveTheirOwnTasks) {
  auto root = fresh_refexp_root("mdetr_variants");
  write_mdetr(root, "mdetr_annotations", "refcoco+", "testA", {{103, "man in red", {5, 5, 10, 10}}});
  write_mdetr(root, "mdetr_annotations", "refcoco+", "testB", {{104, "left car", {1, 2, 3, 4}}});
  write_mdetr(root, "mdetr_annotations", "refcocog", "test", {{105, "the chair next to the table", {0, 0, 250, 375}}});
  auto plus = tasks::find_task("refcoco+_mdetr").load(root, "test", true, nullptr);
  EXPECT_EQ(sentences(plus), (std::vector<std::string>{"man in red", "left car"}));
  EXPECT_EQ(plus[0].meta.at("dataset_name"), "refcoco+");
  EXPECT_EQ(plus[1].task, "refcoco+_mdetr");
  // RefCOCOg (umd) has one test file.
  auto g = tasks::find_task("refcocog_mdetr").load(root, "test", true, nullptr);
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0].id, "0");
  EXPECT_EQ(g[0].box, (std::vector<double>{0, 0, 250, 375}));
  EXPECT_EQ(tasks::find_task("refcocog_mdetr").kind, tasks::Kind::kGrounding);
  auto msg = error_of([&] { tasks::find_task("refcocog_mdetr").load(root, "val", true, nullptr); });
  EXPECT_NE(msg.find(root + "/mdetr_annotations/finetune_refcocog_val.json"), std::string::npos) << msg;
}

TEST(RefexpTasks, MdetrReadsTheWorldsFolderWhenTheOfficialOneLacksTheFile) {
  auto root = fresh_refexp_root("mdetr_world");
  write_mdetr(root, "mdetr", "refcoco", "train", {{101, "from the world", {1, 1, 2, 2}}});
  const auto& task = tasks::find_task("refcoco_mdetr");
  EXPECT_EQ(sentences(task.load(root, "train", true, nullptr)), std::vector<std::string>{"from the world"});
  write_mdetr(root, "mdetr_annotations", "refcoco", "train", {{101, "official", {1, 1, 2, 2}}});
  EXPECT_EQ(sentences(task.load(root, "train", true, nullptr)), std::vector<std::string>{"official"});
}

TEST(RefexpTasks, MdetrTextsStayOutOfTheTokenizerText) {
  // The same expressions as REFER's files: counted once in the tokenizer's text.
  auto root = fresh_refexp_root("mdetr_tokenizer");
  write_mdetr(root, "mdetr_annotations", "refcoco", "train", {{101, "zebra on the left", {1, 1, 2, 2}}});
  EXPECT_EQ(tasks::training_text(root).find("zebra"), std::string::npos);
  for (const char* name : {"refcoco_mdetr", "refcoco+_mdetr", "refcocog_mdetr"})
    EXPECT_FALSE(tasks::find_task(name).tokenizer_text) << name;
  EXPECT_TRUE(tasks::find_task("refcoco").tokenizer_text);
}
