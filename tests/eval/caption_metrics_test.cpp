#include "eval/caption_metrics.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "eval/cider.h"

using namespace smoes::eval;

TEST(CaptionMetrics, ExactMatchesThroughTheWholePipeline) {
  // After tokenisation both candidates equal a reference: "a dog runs" (3
  // tokens; refs of 3 and 4 -> closest 3) and "two cats sleep" (3 vs 3).
  // Totals: 1-grams 6/6, 2-grams 4/4, 3-grams 2/2, 4-grams 0/0, testlen = reflen = 6.
  // BLEU-4 = (1 * 1 * 1 * (0 + 1e-15) / (0 + 1e-9))^(1/4) = 1e-6^(1/4) = 0.0316227766 (coco's smoothing).
  std::map<std::string, std::vector<std::string>> refs = {{"1", {"A dog runs.", "A dog is running."}},
                                                          {"2", {"Two cats sleep."}}};
  std::map<std::string, std::string> preds = {{"1", "a dog runs"}, {"2", "Two cats sleep!"}};
  auto m = caption_metrics(refs, preds);
  EXPECT_NEAR(m["BLEU-1"].get<double>(), 1.0, 1e-9);
  EXPECT_NEAR(m["BLEU-3"].get<double>(), 1.0, 1e-9);
  EXPECT_NEAR(m["BLEU-4"].get<double>(), 0.03162277658916645, 1e-12);
  EXPECT_NEAR(m["ROUGE-L"].get<double>(), 1.0, 1e-12);
  EXPECT_NEAR(m["CIDEr-D"].get<double>(), cider_d(make_caption_samples(refs, preds)).score, 1e-12);
  EXPECT_GT(m["CIDEr-D"].get<double>(), 0.0);
  EXPECT_EQ(m["images"].get<int>(), 2);
}

TEST(CaptionMetrics, IdMismatchAndEmptyInputAreErrors) {
  std::map<std::string, std::vector<std::string>> refs = {{"1", {"a dog"}}, {"2", {"a cat"}}};
  try {
    caption_metrics(refs, {{"1", "a dog"}});
    FAIL();
  } catch (const smoes::Error& e) {
    EXPECT_NE(std::string(e.what()).find("captions: 1 of 2 ids have no prediction (first: 2)"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(caption_metrics({}, {}), smoes::Error);
  EXPECT_THROW(caption_metrics({{"1", {}}}, {{"1", "a dog"}}), smoes::Error);
}
