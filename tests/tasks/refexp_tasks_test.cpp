// The referring-expression tasks read through the registry, over roots laid
// out as the published files unpack (written here from the REFER fixtures).
#include <gtest/gtest.h>

#include <filesystem>

#include "tasks/tasks.h"

using namespace smoes;
namespace fs = std::filesystem;

namespace {

// A fresh root holding the REFER fixture as refcoco/refs(unc).p + refcoco/instances.json.
std::string refer_root(const std::string& name) {
  auto root = fs::temp_directory_path() / ("smoes_refexp_tasks_" + name);
  fs::remove_all(root);
  fs::create_directories(root / "refcoco");
  for (const char* file : {"refs(unc).p", "instances.json"})
    fs::copy_file(std::string(SMOES_FIXTURES_DIR) + "/data/refcoco/refcoco/" + file, root / "refcoco" / file);
  return root.string();
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
