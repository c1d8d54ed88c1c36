#include "core/log.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/files.h"

TEST(Progress, FormatsEta) {
  EXPECT_EQ(smoes::Progress::format_eta(0), "00:00");
  EXPECT_EQ(smoes::Progress::format_eta(65.4), "01:05");
  EXPECT_EQ(smoes::Progress::format_eta(3725), "1:02:05");
  EXPECT_EQ(smoes::Progress::format_eta(NAN), "--:--");
  EXPECT_EQ(smoes::Progress::format_rate(2.5), "2.50 it/s");
  EXPECT_EQ(smoes::Progress::format_rate(0), "0.00 it/s");
  EXPECT_EQ(smoes::Progress::format_rate(1.0 / 250), "04:10/it");
}

TEST(MetricsWriter, ResumeDropsLinesPastTheCheckpoint) {
  auto path = (std::filesystem::temp_directory_path() / "smoes_metrics_test.jsonl").string();
  std::filesystem::remove(path);
  {
    smoes::MetricsWriter w(path);
    for (int s = 10; s <= 50; s += 10) w.write({{"step", s}, {"loss", 1.0 / s}});
  }
  smoes::write_file_atomic(path, smoes::read_file(path) + "{\"step\": 60, \"lo");  // cut by a crash
  {
    smoes::MetricsWriter w(path, /*resume_step=*/30);
    w.write({{"step", 40}, {"loss", 0.5}});
  }
  std::string text = smoes::read_file(path);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 4);
  EXPECT_EQ(text.find("\"step\":50"), std::string::npos);
  EXPECT_NE(text.find("{\"loss\":0.5,\"step\":40}"), std::string::npos) << text;
}
