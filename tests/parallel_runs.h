// Shared by the data- and expert-parallel tests: two training runs that
// must be the same run (loss curve and final parameters).
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "train/run.h"

namespace parallel_runs {

inline std::vector<double> losses(const std::string& run) {
  std::vector<double> out;
  std::ifstream in(run + "/metrics.jsonl");
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    if (j.contains("loss")) out.push_back(j["loss"].get<double>());
  }
  return out;
}

// Losses to 2e-4 (relative above 1), parameters to 1e-3 relative. The
// projector's last bias has a true gradient of 0 (the per-image norm after
// it subtracts each image's mean), so AdamW turns fp32 rounding into steps
// of up to lr: it is held to lr x steps.
inline void expect_same_run(const std::string& a, const std::string& b) {
  auto la = losses(a), lb = losses(b);
  ASSERT_EQ(la.size(), lb.size());
  ASSERT_FALSE(la.empty());
  for (size_t i = 0; i < la.size(); ++i)
    EXPECT_NEAR(la[i], lb[i], 2e-4 * std::max(1.0, std::abs(la[i]))) << "step " << i + 1;
  auto ra = smoes::train::load_run(a), rb = smoes::train::load_run(b);
  auto pb = rb.model->named_parameters();
  const double noise_only = ra.cfg.train.lr * double(ra.cfg.train.steps);
  for (const auto& p : ra.model->named_parameters())
    EXPECT_TRUE(torch::allclose(p.value(), pb[p.key()], 1e-3, p.key() == "projector.fc2.bias" ? noise_only : 1e-5))
        << p.key() << " max |diff| " << (p.value() - pb[p.key()]).abs().max().item<double>();
}

}  // namespace parallel_runs
