// No contamination: no training task, stage 0's detection data included,
// uses an image that an evaluation split uses (MDETR's rule for RefCOCO).
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "core/error.h"
#include "tasks/tasks.h"
#include "train/example_source.h"
#include "world/generate.h"

using namespace smoes;
namespace fs = std::filesystem;

namespace {

const std::string& world_root() {
  static const std::string root = [] {
    auto dir = (fs::temp_directory_path() / "smoes_held_out_world").string();
    fs::remove_all(dir);
    world::generate(world::WorldOptions::for_preset("tiny", 11), dir);
    return dir;
  }();
  return root;
}

// The world writes every dataset but RefCOCO+ and RefCOCOg (in either format).
bool in_world(const tasks::Task& task) {
  for (const char* absent : {"refcoco+", "refcocog", "refcoco+_mdetr", "refcocog_mdetr"})
    if (task.name == absent) return false;
  return true;
}

std::set<std::string> images_of(const std::vector<data::Example>& examples) {
  std::set<std::string> out;
  for (const auto& ex : examples)
    for (const auto& p : ex.image_paths) out.insert(tasks::image_key(p));
  return out;
}

// Every evaluation split's images, walked here split by split (RefCOCO's
// testB included). VQA-CP is the documented exception: its test split is
// VQA v2 train+val re-split, so its images are COCO training images by design.
std::set<std::string> evaluation_images_walked(const std::string& root) {
  std::set<std::string> out;
  for (const auto& task : tasks::all_tasks()) {
    if (task.name == "vqa_cp" || !in_world(task)) continue;
    for (const char* split : {"val", "test", "testB"}) {
      if (std::string(split) == "testB" && task.name != "refcoco") continue;
      auto images = images_of(task.load(root, split, /*strict=*/true, nullptr));
      out.insert(images.begin(), images.end());
    }
  }
  return out;
}

}  // namespace

TEST(HeldOutImages, NoTrainingTaskUsesAnImageOfAnyEvaluationSplit) {
  const auto& root = world_root();
  const auto eval_images = evaluation_images_walked(root);
  ASSERT_GT(eval_images.size(), 50u);
  EXPECT_EQ(tasks::evaluation_images(root), eval_images);
  size_t training_tasks = 0;
  for (const auto& task : tasks::all_tasks()) {
    if (task.eval_only || !in_world(task)) continue;
    auto loaded = train::load_tasks(root, {{task.name, 1.0}}, "train");
    ASSERT_EQ(loaded.size(), 1u);
    for (const auto& image : images_of(loaded[0].examples))
      ASSERT_EQ(eval_images.count(image), 0u) << task.name << " trains on evaluation image " << image;
    ++training_tasks;
  }
  EXPECT_GE(training_tasks, 14u);
}

TEST(HeldOutImages, RefcocoEvaluationImagesAreCocoTrainImagesUntilLeftOut) {
  // The real layout puts RefCOCO val/test refs on COCO train2014 images: the
  // rule has something to remove, so the test above can fail.
  const auto& root = world_root();
  const auto& refcoco = tasks::find_task("refcoco");
  auto ref_eval = images_of(refcoco.load(root, "val", true, nullptr));
  for (const char* split : {"test", "testB"}) {
    auto more = images_of(refcoco.load(root, split, true, nullptr));
    ref_eval.insert(more.begin(), more.end());
  }
  auto raw = tasks::find_task("coco_detection").load(root, "train", true, nullptr);
  size_t shared = 0;
  for (const auto& image : images_of(raw)) shared += ref_eval.count(image);
  ASSERT_GT(shared, 0u);
  auto kept = raw;
  EXPECT_EQ(tasks::remove_examples_on(kept, ref_eval), shared);  // one detection example per image
  EXPECT_EQ(kept.size() + shared, raw.size());
}
