#include "moe/stats.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "../error_of.h"

TEST(RoutingStats, CountsByModalityCoactivationEntropyAndDrops) {
  smoes::moe::RoutingStats stats(3);
  // token 0 (text) -> experts 0,1; token 1 (vision) -> 1,2; token 2 (vision) -> 1,0
  auto idx = torch::tensor({0, 1, 1, 2, 1, 0}, torch::kLong).view({3, 2});
  auto probs = torch::full({3, 3}, 1.0 / 3);
  auto modality = torch::tensor({0, 1, 1}, torch::kLong);
  stats.add(idx, probs, modality, /*dropped=*/1, /*total=*/6);
  EXPECT_EQ(stats.text_load, (std::vector<int64_t>{1, 1, 0}));
  EXPECT_EQ(stats.vision_load, (std::vector<int64_t>{1, 2, 1}));
  // pairs (0,1) twice (tokens 0 and 2), (1,2) once, both directions.
  EXPECT_EQ(stats.coactivation[0 * 3 + 1], 2);
  EXPECT_EQ(stats.coactivation[1 * 3 + 0], 2);
  EXPECT_EQ(stats.coactivation[1 * 3 + 2], 1);
  EXPECT_EQ(stats.coactivation[0 * 3 + 2], 0);
  auto j = stats.to_json();
  EXPECT_NEAR(j["gate_entropy"].get<double>(), std::log(3.0), 1e-6);  // uniform probabilities
  EXPECT_NEAR(j["dropped_pct"].get<double>(), 100.0 / 6, 1e-9);
  EXPECT_EQ(j["unused_experts"], 0);
  EXPECT_EQ(j["text_tokens"], 1);
  EXPECT_EQ(j["vision_tokens"], 2);
}

TEST(RoutingStats, UnusedExpertsAndReset) {
  smoes::moe::RoutingStats stats(4);
  stats.add(torch::zeros({5, 1}, torch::kLong), torch::full({5, 4}, 0.25), torch::zeros({5}, torch::kLong), 0, 5);
  auto j = stats.to_json();
  EXPECT_EQ(j["unused_experts"], 3);
  EXPECT_DOUBLE_EQ(j["max_over_mean_load"].get<double>(), 4.0);
  stats.reset();
  EXPECT_EQ(stats.to_json()["tokens"], 0);
}

TEST(RoutingTrace, OneLinePerTokenWithItsSourceExpertsWeightsAndSoftScore) {
  auto path = (std::filesystem::temp_directory_path() / "smoes_trace_test.jsonl").string();
  std::filesystem::remove(path);
  {
    smoes::moe::RoutingTraceWriter w(path);
    smoes::moe::TraceTokens tokens{"decode", {4, 5}, {0, 1}, {17, 9}, {1, 0}};
    w.write(2, tokens, torch::tensor({3, 1, 0, 2}, torch::kLong).view({2, 2}),
            torch::tensor({0.75f, 0.25f, 0.5f, 0.5f}).view({2, 2}), torch::tensor({0.25f, 0.75f, 1.0f, 0.0f}).view({2, 2}));
    EXPECT_FALSE(std::filesystem::exists(path));  // nothing at the final name before commit
    w.commit();
  }
  std::ifstream in(path);
  std::string line;
  std::vector<nlohmann::json> lines;
  while (std::getline(in, line)) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["layer"], 2);
  EXPECT_EQ(lines[0]["example"], 4);
  EXPECT_EQ(lines[0]["phase"], "decode");
  EXPECT_EQ(lines[0]["token"], 17);
  EXPECT_EQ(lines[0]["modality"], 1);
  EXPECT_EQ(lines[0]["experts"], (std::vector<int>{3, 1}));
  EXPECT_DOUBLE_EQ(lines[0]["weights"][0].get<double>(), 0.75);
  EXPECT_DOUBLE_EQ(lines[0]["soft"][1].get<double>(), 0.75);
  EXPECT_EQ(lines[1]["pos"], 1);
  EXPECT_EQ(lines[1]["example"], 5);
}

TEST(RoutingTrace, UncommittedTraceLeavesNoFileAndMismatchedTokensAreRefused) {
  auto path = (std::filesystem::temp_directory_path() / "smoes_trace_uncommitted.jsonl").string();
  std::filesystem::remove(path);
  {
    smoes::moe::RoutingTraceWriter w(path);
    smoes::moe::TraceTokens three{"prefill", {0, 0, 0}, {}, {}, {}};
    auto err = error_of([&] {
      w.write(0, three, torch::zeros({2, 1}, torch::kLong), torch::ones({2, 1}), {});
    });
    EXPECT_NE(err.find("3 example ids for 2 routed tokens"), std::string::npos) << err;
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".partial"));
}
