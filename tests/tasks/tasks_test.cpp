#include <gtest/gtest.h>

#include <set>

#include "core/error.h"
#include "tasks/tasks.h"
#include "world/knowledge.h"
#include "world/scene.h"

using namespace smoes;
using namespace smoes::tasks;

TEST(Tasks, BoxesRoundTripThroughLocationTokensWithinOneBin) {
  // 64x64 image, 32 bins: a bin is 2 px, so each decoded edge is within 1 px (bin centre).
  std::vector<double> box = {10.0, 20.5, 17.0, 30.0};
  auto text = box_to_location_text(box, 64, 64, 32);
  EXPECT_EQ(text, "<loc_5><loc_10><loc_13><loc_25>");  // floor(10/2), floor(20.5/2), floor(27/2), floor(50.5/2)
  auto back = location_bins_to_box({5, 10, 13, 25}, 64, 64, 32);
  EXPECT_DOUBLE_EQ(back[0], 11.0);  // (5 + 0.5) * 2
  EXPECT_DOUBLE_EQ(back[1], 21.0);
  EXPECT_DOUBLE_EQ(back[2], 27.0 - 11.0);
  EXPECT_DOUBLE_EQ(back[3], 51.0 - 21.0);
  // Edges outside the image clamp to the first/last bin; swapped corners still give a box.
  EXPECT_EQ(box_to_location_text({-5, -5, 200, 200}, 64, 64, 32), "<loc_0><loc_0><loc_31><loc_31>");
  auto swapped = location_bins_to_box({13, 25, 5, 10}, 64, 64, 32);
  EXPECT_DOUBLE_EQ(swapped[0], 11.0);
  EXPECT_DOUBLE_EQ(swapped[2], 16.0);
  EXPECT_THROW(box_to_location_text({1, 2, 3}, 64, 64, 32), Error);
}

TEST(Tasks, TrainingTargetsFollowTheTaskKind) {
  std::mt19937_64 rng(3);
  data::Example ex;
  ex.id = "7";
  ex.targets = {"a", "b", "c"};
  Task caption{"cap", Kind::kCaption, nullptr};
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) seen.insert(training_target(caption, ex, 32, rng));
  EXPECT_EQ(seen, (std::set<std::string>{"a", "b", "c"}));  // captions: every reference gets used

  Task vqa{"vqa", Kind::kVqa, nullptr};
  ex.meta["multiple_choice_answer"] = "b";
  EXPECT_EQ(training_target(vqa, ex, 32, rng), "b");

  Task choice{"mc", Kind::kChoice, nullptr};
  ex.choices = {"x", "y"};
  ex.answer_index = 1;
  EXPECT_EQ(training_target(choice, ex, 32, rng), "y");
  ex.answer_index = -1;  // unlabeled (test split): cannot be trained on
  EXPECT_THROW(training_target(choice, ex, 32, rng), Error);

  Task ground{"ref", Kind::kGrounding, nullptr};
  ex.box = {0, 0, 32, 32};
  ex.image_width = ex.image_height = 64;
  EXPECT_EQ(training_target(ground, ex, 4, rng), "<loc_0><loc_0><loc_2><loc_2>");

  // Detection: every object in reading order (top to bottom), 8 bins of 8 px.
  Task detect{"det", Kind::kDetection, nullptr};
  ex.objects = {{"circle", {4, 30, 8, 8}, 1, {}, {}}, {"square", {40, 10, 16, 16}, 2, {}, {}}};
  EXPECT_EQ(training_target(detect, ex, 8, rng),
            "square<loc_5><loc_1><loc_7><loc_3> circle<loc_0><loc_3><loc_1><loc_4>");
  ex.objects.clear();
  EXPECT_EQ(training_target(detect, ex, 8, rng), "nothing");
}

TEST(Tasks, ImageTagsAreRemovedWhereTheyStand) {
  EXPECT_EQ(without_image_tags("<image>\nQ: a<image>b <image>"), "\nQ: ab ");
  EXPECT_EQ(without_image_tags("no tag"), "no tag");
}

TEST(Tasks, UnknownTaskNamesTheKnownOnes) {
  try {
    find_task("nope");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("coco_captions"), std::string::npos);
  }
}

TEST(Tasks, FactQaAsksEveryPropertyPairInBothOrders) {
  const auto& task = smoes::tasks::find_task("fact_qa");
  EXPECT_TRUE(task.eval_only);
  auto examples = task.load("/nonexistent", "val", true, nullptr);
  // floats: 2 yes x 2 no; magnetic, burns, bounces, conducts: 1 x 3 each; fragile (glass): 1 x 3.
  size_t pairs = 0;
  for (const auto& p : smoes::world::properties())
    pairs += p.materials.size() * (smoes::world::Vocabulary::materials().size() - p.materials.size());
  ASSERT_EQ(examples.size(), 2 * pairs);
  size_t first_is_right = 0;
  for (const auto& ex : examples) {
    ASSERT_EQ(ex.choices.size(), 2u);
    const auto& p = smoes::world::property(ex.id.substr(0, ex.id.find('/')));
    EXPECT_TRUE(smoes::world::has_property(ex.choices[ex.answer_index], p)) << ex.id;
    EXPECT_FALSE(smoes::world::has_property(ex.choices[1 - ex.answer_index], p)) << ex.id;
    EXPECT_TRUE(ex.image_paths.empty());
    EXPECT_EQ(ex.prompt.find("<image>"), std::string::npos);
    first_is_right += ex.answer_index == 0;
  }
  EXPECT_EQ(first_is_right * 2, examples.size());
  EXPECT_EQ(examples[0].prompt, "Question: Which material would float on water, wood or metal? Answer with one word.");
}

TEST(Tasks, ArrangedPromptMovesEveryImageAfterTheText) {
  EXPECT_EQ(tasks::arranged_prompt("<image>\nQuestion: Is it red? Answer.", "last"), "Question: Is it red? Answer.\n<image>");
  EXPECT_EQ(tasks::arranged_prompt("<image>\n<image>\nStatement: two.", "last"), "Statement: two.\n<image>\n<image>");
  EXPECT_EQ(tasks::arranged_prompt("<image>\nDescribe the image.", "first"), "<image>\nDescribe the image.");
  EXPECT_THROW(tasks::arranged_prompt("<image>", "middle"), Error);
}
