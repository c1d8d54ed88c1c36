#include "core/log.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
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

// A kill cuts at most the last line: it is skipped; a bad line elsewhere is
// an error naming the file and the line.
TEST(ReadMetrics, SkipsACutLastLineAndNamesABadLineElsewhere) {
  auto path = (std::filesystem::temp_directory_path() / "smoes_read_metrics_test.jsonl").string();
  smoes::write_file_atomic(path, "{\"step\":1,\"loss\":2.5}\n\n{\"step\":2,\"loss\":2.0}\n{\"step\":3,\"lo");
  auto records = smoes::read_metrics(path);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1]["loss"].get<double>(), 2.0);

  smoes::write_file_atomic(path, "{\"step\":1}\n{\"step\":2,\n{\"step\":3}\n");
  try {
    smoes::read_metrics(path);
    FAIL() << "a bad middle line must throw";
  } catch (const smoes::Error& e) {
    EXPECT_NE(std::string(e.what()).find(path + ": line 2 is not a JSON object"), std::string::npos) << e.what();
  }
}

// A metrics write that the file system refuses throws naming the file
// instead of losing records silently (/dev/full fails every write with ENOSPC).
TEST(MetricsWriter, AFailedWriteThrowsNamingTheFile) {
  smoes::MetricsWriter w("/dev/full");
  try {
    w.write({{"step", 1}});
    FAIL() << "writing to /dev/full must throw";
  } catch (const smoes::Error& e) {
    EXPECT_NE(std::string(e.what()).find("/dev/full: cannot append a metrics record: No space left on device"),
              std::string::npos)
        << e.what();
  }
}
