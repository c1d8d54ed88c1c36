// SNLI-VE loader on hand-written JSON-lines fixtures in the published format
// (tests/fixtures/data/snli_ve); images are tiny files in a temp dir.
#include "data/snli_ve.h"
#include "data/image_check.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "loader_test_util.h"

using namespace smoes;
using namespace loader_test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// Flickr30K images: 3416050480 as .jpg, 2267923837 as .png.
std::string flickr_images(const std::string& name) {
  std::string dir = temp_dir(name) + "/flickr30k_images";
  write_png(dir + "/3416050480.jpg");
  write_png(dir + "/2267923837.png");
  return dir;
}

const std::vector<std::string> kLabels = {"entailment", "neutral", "contradiction"};
const std::string kPremise = "A person on a horse jumps over a broken down airplane.";

}  // namespace

TEST(SnliVe, ReadsJsonLines) {
  std::string images = flickr_images("read");
  auto got = data::load_snli_ve(fixture("snli_ve/snli_ve_dev.jsonl"), images);
  ASSERT_EQ(got.size(), 3u);
  expect_same(got[0],
              make("snli_ve", "3416050480.jpg#4r1n", {images + "/3416050480.jpg"},
                   "<image>\nHypothesis: A person is training his horse for a competition.\nDoes the image "
                   "entail the hypothesis, contradict it, or neither? Answer entailment, neutral or contradiction.",
                   {"neutral"}, kLabels, 1, {{"premise", kPremise}}));
  expect_same(got[1], make("snli_ve", "3416050480.jpg#4r1c", {images + "/3416050480.jpg"},
                           data::snli_ve_prompt("A person is at a diner, ordering an omelette."), {"contradiction"},
                           kLabels, 2, {{"premise", kPremise}}));
  // No sentence1, and a numeric Flickr30K_ID.
  expect_same(got[2], make("snli_ve", "2267923837.jpg#2r1e", {images + "/2267923837.png"},
                           data::snli_ve_prompt("There are children present."), {"entailment"}, kLabels, 0, {}));
  EXPECT_EQ(data::kSnliVeChoices, kLabels);
}

TEST(SnliVe, LegacyImageKeysReadLikeTheCurrentOne) {
  std::string images = flickr_images("legacy");
  const std::string modern_file = fixture("snli_ve/snli_ve_dev.jsonl");
  auto modern = data::load_snli_ve(modern_file, images);
  ASSERT_EQ(modern.size(), 3u);
  // Old releases: the original generator's Flikr30kID and the README's
  // Flickr30kID, whose value is the file name ("3416050480.jpg").
  for (std::string key : {"Flikr30kID", "Flickr30kID"}) {
    SCOPED_TRACE(key);
    json lines = read_lines(modern_file);
    for (auto& line : lines) {
      std::string id = line["Flickr30K_ID"].is_string() ? line["Flickr30K_ID"].get<std::string>()
                                                        : std::to_string(line["Flickr30K_ID"].get<int64_t>());
      line.erase("Flickr30K_ID");
      line[key] = id + ".jpg";
    }
    std::string file = temp_dir("legacy_" + key) + "/snli_ve_dev.jsonl";
    write_lines(file, lines);
    auto legacy = data::load_snli_ve(file, images);
    ASSERT_EQ(legacy.size(), modern.size());
    for (size_t i = 0; i < legacy.size(); ++i) expect_same(legacy[i], modern[i]);

    // A bad value is reported under the key the record uses.
    lines[1][key] = 2.5;
    write_lines(file, lines);
    std::string msg = error_of([&] { data::load_snli_ve(file, images); });
    EXPECT_NE(msg.find("line 2 (pairID 3416050480.jpg#4r1c): field '" + key + "': expected a string or an integer"),
              std::string::npos)
        << msg;
  }
}

TEST(SnliVe, StrictModeNamesFileLineAndField) {
  std::string images = flickr_images("strict");
  std::string msg = error_of([&] { data::load_snli_ve(fixture("snli_ve/bad.jsonl"), images); });
  EXPECT_NE(msg.find("bad.jsonl: line 2 (pairID 1.jpg#0r1x): field 'gold_label': unknown label \"-\" (expected "
                     "entailment, neutral or contradiction)"),
            std::string::npos)
      << msg;
  struct Case {
    std::string line, expected;
  };
  const std::vector<Case> cases = {
      {R"({"gold_label": "neutral", "pairID": "p", "Flickr30K_ID": "3416050480"})",
       "x.jsonl: line 2 (pairID p): field 'sentence2': missing"},
      {R"({"gold_label": "neutral", "sentence2": "h", "Flickr30K_ID": "3416050480"})",
       "x.jsonl: line 2: field 'pairID': missing"},
      {R"({"gold_label": "neutral", "pairID": "p", "sentence2": "h", "Flickr30K_ID": 2.5})",
       "x.jsonl: line 2 (pairID p): field 'Flickr30K_ID': expected a string or an integer, got number"},
      {R"({"gold_label": ["neutral"], "pairID": "p", "sentence2": "h", "Flickr30K_ID": "3416050480"})",
       "x.jsonl: line 2 (pairID p): field 'gold_label': expected a string, got array"},
      {R"({"gold_label": "neutral", "pairID": "p", "sentence2": "h", "sentence1": {}, "Flickr30K_ID": "3416050480"})",
       "x.jsonl: line 2 (pairID p): field 'sentence1': expected a string, got object"},
      {R"({"gold_label": "neutral", "pairID": "p", "sentence2": " ", "Flickr30K_ID": "3416050480"})",
       "x.jsonl: line 2 (pairID p): field 'sentence2': empty"},
      {"{\"gold_label\": ", "x.jsonl: line 2: not valid JSON: "},
  };
  std::string good = read_lines(fixture("snli_ve/snli_ve_dev.jsonl"))[0].dump();
  for (size_t i = 0; i < cases.size(); ++i) {
    std::string file = temp_dir("strict_case") + "/x.jsonl";
    write_text(file, good + "\n" + cases[i].line + "\n");
    msg = error_of([&] { data::load_snli_ve(file, images); });
    EXPECT_NE(msg.find(cases[i].expected), std::string::npos) << "case " << i << ": " << msg;
  }
  // Annotations alone: a pair whose image is absent loads with the path it
  // names; check_images names it.
  std::string file = temp_dir("no_image") + "/x.jsonl";
  write_text(file, good + "\n" + R"({"gold_label": "neutral", "pairID": "p", "sentence2": "h", "Flickr30K_ID": "123"})" +
                       "\n");
  auto got = data::load_snli_ve(file, images);
  ASSERT_EQ(got.size(), 2u);
  msg = error_of([&] { data::check_images(got, /*strict=*/true, nullptr); });
  EXPECT_NE(msg.find("snli_ve p: " + images + "/123.jpg: image file not found"), std::string::npos) << msg;
}

TEST(SnliVe, TolerantModeSkipsAndCounts) {
  std::string images = flickr_images("tolerant");
  data::LoadReport report;
  auto got = data::load_snli_ve(fixture("snli_ve/bad.jsonl"), images, /*strict=*/false, &report);
  data::check_images(got, /*strict=*/false, &report);  // the annotations read; then the images
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].id, "1.jpg#0r1e");
  EXPECT_EQ(got[0].answer_index, 0);
  EXPECT_EQ(report.records, 7u);
  EXPECT_EQ(report.skipped, 6u);
  EXPECT_EQ(report.reasons["field 'gold_label': unknown label \"-\" (expected entailment, neutral or contradiction)"],
            1u);
  EXPECT_EQ(report.reasons["field 'sentence2': missing"], 1u);
  EXPECT_EQ(report.reasons["image file not found"], 1u);
  EXPECT_EQ(report.reasons["field 'sentence2': expected a string, got array"], 1u);
  EXPECT_EQ(report.reasons["field 'sentence1': expected a string, got number"], 1u);
  EXPECT_EQ(report.reasons["not valid JSON"], 1u);
}

TEST(SnliVe, ManifestIsChecked) {
  std::string root = temp_dir("manifest");
  std::string images = flickr_images("manifest_images");
  std::string file = root + "/snli_ve/snli_ve_dev.jsonl";
  fs::create_directories(root + "/snli_ve");
  write_text(file, read_file(fixture("snli_ve/snli_ve_dev.jsonl")));
  write_text(root + "/MANIFEST.json", json{{"files", {{"snli_ve/snli_ve_dev.jsonl", sha256_file(file)}}}}.dump());
  EXPECT_EQ(data::load_snli_ve(file, images).size(), 3u);
  write_text(file, read_file(file) + "\n");
  EXPECT_NE(error_of([&] { data::load_snli_ve(file, images); }).find("snli_ve_dev.jsonl: SHA-256 does not match"),
            std::string::npos);
}

TEST(SnliVe, NeverCrashesOnAnyJsonShape) {
  std::string images = flickr_images("fuzz");
  std::string file = temp_dir("fuzz_file") + "/snli_ve_dev.jsonl";
  expect_never_crashes(fixture("snli_ve/snli_ve_dev.jsonl"), file,
                       [&](bool strict, data::LoadReport* r) { return data::load_snli_ve(file, images, strict, r); });
}

TEST(SnliVe, ReadsTheEmbeddedWorld) {
  const std::string root = world_dir();
  for (std::string s : {"train", "dev", "test"}) {
    auto got = data::load_snli_ve(root + "/snli_ve/snli_ve_" + s + ".jsonl", root + "/snli_ve/flickr30k_images");
    ASSERT_EQ(got.size(), world_count("snli_ve", s, "pairs")) << s;
    std::map<std::string, size_t> per_label;
    for (const auto& ex : got) {
      ++per_label[ex.choices.at(ex.answer_index)];
      EXPECT_TRUE(fs::exists(ex.image_paths.at(0)));
    }
    for (const auto& label : kLabels)
      EXPECT_EQ(per_label[label], world_count("snli_ve", s, label)) << s << " " << label;
  }
}
