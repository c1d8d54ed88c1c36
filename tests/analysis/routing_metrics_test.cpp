// The numbers of `smoes analyze routing` on hand-made routing: MSI,
// modality-bin MI, adaptive bins, expert-parallel placement and traffic
// (against a brute-force count), soft-score histograms.
#include "analysis/routing_metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "../error_of.h"

using namespace smoes::analysis;

TEST(RoutingMetrics, MsiIsOneForAHardPartitionAndZeroForModalityBlindRouting) {
  // Layer 0: experts 0-1 only text, 2-3 only vision; layer 1 likewise, with
  // other counts (the index normalises by token counts, so 10 text vs 30 vision tokens don't matter).
  ModalityLoads hard{{12, 8, 0, 0}, {0, 0, 30, 30}, 10, 30};
  auto r = modality_specialization({hard, ModalityLoads{{1, 19, 0, 0}, {0, 0, 59, 1}, 10, 30}});
  ASSERT_TRUE(r.msi);
  EXPECT_DOUBLE_EQ(*r.msi, 1.0);
  EXPECT_EQ(*r.text_fraction[0][0], 1.0);
  EXPECT_EQ(*r.text_fraction[0][3], 0.0);

  // Modality-blind: each expert gets the same share of each modality's slots (k = 2).
  ModalityLoads blind{{5, 5, 5, 5}, {15, 15, 15, 15}, 10, 30};
  auto b = modality_specialization({blind});
  ASSERT_TRUE(b.msi);
  EXPECT_NEAR(*b.msi, 0.0, 1e-12);
  EXPECT_NEAR(*b.text_fraction[0][1], 0.5, 1e-12);
}

TEST(RoutingMetrics, MsiSkipsUnusedExpertsAndNeedsBothModalities) {
  // Expert 3 is unused; expert 2 gets text at 2x its vision rate: C~ = (4/10) / (4/10 + 6/30) = 2/3.
  ModalityLoads l{{8, 8, 4, 0}, {0, 54, 6, 0}, 10, 30};
  auto r = modality_specialization({l});
  EXPECT_EQ(r.unused, 1);
  EXPECT_FALSE(r.text_fraction[0][3]);
  EXPECT_NEAR(*r.text_fraction[0][2], 2.0 / 3.0, 1e-12);
  // Expert 1: (8/10) / (8/10 + 54/30) = 0.8 / 2.6.
  const double f1 = 0.8 / 2.6;
  EXPECT_NEAR(*r.msi, (1.0 + 2 * std::abs(f1 - 0.5) + 2 * (2.0 / 3.0 - 0.5)) / 3.0, 1e-12);

  auto text_only = modality_specialization({ModalityLoads{{3, 1}, {0, 0}, 2, 0}});
  EXPECT_FALSE(text_only.msi);
  EXPECT_FALSE(text_only.per_layer[0]);
}

TEST(RoutingMetrics, MutualInformationMatchesAHandComputedTwoByTwoCase) {
  // E = 2, bin e = e. Two text tokens route 0.75/0.25, one vision token 0.25/0.75.
  // S = [[0.75, 0.25], [0.25, 0.75]] (each modality by its own count), P = S / 2,
  // P(m) = P(k) = 1/2: I = 2 * 0.375 log(0.375 / 0.25) + 2 * 0.125 log(0.125 / 0.25).
  ModalityMass m(2);
  m.add({0.75f, 0.25f, 0.25f, 0.75f, 0.75f, 0.25f}, {0, 1, 0});
  const double expected = 0.75 * std::log(1.5) + 0.25 * std::log(0.5);
  ASSERT_TRUE(modality_bin_information(m, {0, 1}));
  EXPECT_NEAR(*modality_bin_information(m, {0, 1}), expected, 1e-7);
  // One bin holding everything carries no information.
  EXPECT_NEAR(*modality_bin_information(m, {0, 0}), 0.0, 1e-12);
}

TEST(RoutingMetrics, MutualInformationIsLog2ForPerfectSeparationAndNullWithoutAModality) {
  // E = 4 in bins {0, 0, 1, 1}: text only into bin 0, vision only into bin 1, however the mass is spread inside.
  ModalityMass m(4);
  m.add({0.5f, 0.5f, 0, 0, 0.9f, 0.1f, 0, 0, 0, 0, 0.3f, 0.7f}, {0, 0, 1});
  EXPECT_NEAR(*modality_bin_information(m, {0, 0, 1, 1}), std::log(2.0), 1e-6);
  // Modality-blind: both modalities put the same mass on each bin.
  ModalityMass blind(4);
  blind.add({0.1f, 0.2f, 0.3f, 0.4f, 0.1f, 0.2f, 0.3f, 0.4f}, {0, 1});
  EXPECT_NEAR(*modality_bin_information(blind, {0, 0, 1, 1}), 0.0, 1e-7);
  ModalityMass text_only(2);
  text_only.add({1.0f, 0.0f}, {0});
  EXPECT_FALSE(modality_bin_information(text_only, {0, 1}));
}

TEST(RoutingMetrics, PlacementCutsIndexOrderOrBinOrderIntoEqualGroups) {
  EXPECT_EQ(expert_placement(8, 2), (std::vector<int64_t>{0, 0, 0, 0, 1, 1, 1, 1}));
  EXPECT_EQ(expert_placement(8, 4), (std::vector<int64_t>{0, 0, 1, 1, 2, 2, 3, 3}));
  // Bins {1,0,1,0,...}: bin 0 = experts 1,3,5,7 go first.
  std::vector<int64_t> bin{1, 0, 1, 0, 1, 0, 1, 0};
  EXPECT_EQ(expert_placement(8, 2, bin), (std::vector<int64_t>{1, 0, 1, 0, 1, 0, 1, 0}));
  EXPECT_EQ(expert_placement(8, 4, bin), (std::vector<int64_t>{2, 0, 2, 0, 3, 1, 3, 1}));
}

TEST(RoutingMetrics, DeviceCountsThatDoNotFitTheExpertsAreRefusedNamingTheOption) {
  auto more = error_of([] { expert_placement(8, 64); });
  EXPECT_NE(more.find("--devices 64"), std::string::npos) << more;
  EXPECT_NE(more.find("8 experts"), std::string::npos) << more;
  EXPECT_NE(error_of([] { expert_placement(8, 3); }).find("--devices 3"), std::string::npos);
  EXPECT_NE(error_of([] { expert_placement(8, 0); }).find("--devices 0"), std::string::npos);
}

TEST(RoutingMetrics, CrossDeviceRateAndBytesMatchABruteForceCount) {
  const int64_t e = 8, k = 2, d_model = 16;
  const int bytes = 2;
  std::mt19937 rng(7);
  LayerSlots slots;
  slots.top_k = k;
  // 60 prefill tokens (vision prefers experts 4-7, text 0-3, with noise), then 20 decode (text) tokens.
  std::vector<std::array<int64_t, 2>> tok_experts;
  std::vector<int> tok_mod, tok_phase;
  for (int t = 0; t < 80; ++t) {
    const int phase = t < 60 ? kPrefill : kDecode, mod = phase == kPrefill ? int(rng() % 3 == 0) : 0;
    int64_t a = (rng() % 4) + (rng() % 5 == 0 ? 4 * (1 - mod) : 4 * mod), b = (a + 1 + rng() % 7) % e;
    slots.add(Phase(phase), {a, b}, {mod});
    tok_experts.push_back({a, b});
    tok_mod.push_back(mod);
    tok_phase.push_back(phase);
  }
  for (int devices : {2, 4}) {
    auto device_of = expert_placement(e, devices);
    // Brute force: slots per device of each modality over prefill; home = most (lowest on ties).
    int64_t home[2];
    for (int m = 0; m < 2; ++m) {
      std::vector<int64_t> count(devices, 0);
      for (size_t t = 0; t < tok_mod.size(); ++t)
        if (tok_phase[t] == kPrefill && tok_mod[t] == m)
          for (auto x : tok_experts[t]) ++count[x / (e / devices)];
      home[m] = 0;
      for (int dv = 1; dv < devices; ++dv)
        if (count[dv] > count[home[m]]) home[m] = dv;
    }
    int64_t tokens[2][2] = {}, crossing[2][2] = {}, remote[2][2] = {};
    for (size_t t = 0; t < tok_mod.size(); ++t) {
      const int p = tok_phase[t], m = tok_mod[t];
      int r = 0;
      for (auto x : tok_experts[t])
        if (x / (e / devices) != home[m]) ++r;
      ++tokens[p][m];
      crossing[p][m] += r > 0;
      remote[p][m] += r;
    }
    auto got = home_devices(slots, device_of);
    EXPECT_EQ(got[0], home[0]);
    EXPECT_EQ(got[1], home[1]);
    auto j = cross_device(slots, device_of).to_json(double(d_model) * bytes);
    const char* phase_name[] = {"prefill", "decode"};
    for (int p = 0; p < 2; ++p) {
      for (int m = 0; m < 2; ++m) {
        const auto& entry = j[phase_name[p]][m ? "vision" : "text"];
        EXPECT_EQ(entry["tokens"], tokens[p][m]);
        if (tokens[p][m] == 0) {
          EXPECT_TRUE(entry["cross_rate"].is_null());
          continue;
        }
        EXPECT_DOUBLE_EQ(entry["cross_rate"].get<double>(), double(crossing[p][m]) / tokens[p][m]);
        EXPECT_DOUBLE_EQ(entry["bytes_per_token"].get<double>(), double(remote[p][m]) * d_model * bytes / tokens[p][m]);
      }
      const auto& all = j[phase_name[p]]["all"];
      EXPECT_DOUBLE_EQ(all["cross_rate"].get<double>(),
                       double(crossing[p][0] + crossing[p][1]) / (tokens[p][0] + tokens[p][1]));
    }
  }
}

TEST(RoutingMetrics, DecodeTokensUseTheTextHomeDevice) {
  // Text lives on device 1 (experts 2,3), vision on device 0; a decode token on
  // experts 2,3 stays home, one on 0,1 crosses with 2 remote slots.
  LayerSlots s;
  s.top_k = 2;
  s.add(kPrefill, {2, 3, 0, 1, 0, 1}, {0, 1, 1});
  s.add(kDecode, {2, 3, 0, 1}, {0, 0});
  auto c = cross_device(s, expert_placement(4, 2));
  EXPECT_EQ(c.tokens[kDecode][0], 2);
  EXPECT_EQ(c.crossing[kDecode][0], 1);
  EXPECT_EQ(c.remote_slots[kDecode][0], 2);
  EXPECT_EQ(c.crossing[kPrefill][0] + c.crossing[kPrefill][1], 0);
}

TEST(RoutingMetrics, SoftScoreHistogramBinsAndMeansPerModality) {
  SoftScoreHistogram h;
  h.add(0, 0.0);
  h.add(0, 0.15);
  h.add(1, 0.95);
  h.add(1, 1.0);  // the closed end goes to the last bin
  auto j = h.to_json();
  EXPECT_EQ(j["text"]["histogram"][0], 1);
  EXPECT_EQ(j["text"]["histogram"][1], 1);
  EXPECT_EQ(j["vision"]["histogram"][9], 2);
  EXPECT_DOUBLE_EQ(j["text"]["mean_vision_score"].get<double>(), 0.075);
  EXPECT_DOUBLE_EQ(j["vision"]["mean_vision_score"].get<double>(), 0.975);
  EXPECT_TRUE(SoftScoreHistogram().to_json()["text"]["mean_vision_score"].is_null());
}
