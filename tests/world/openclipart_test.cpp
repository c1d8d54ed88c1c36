// smoes world openclipart on a hand-made miniature of Debian's openclipart
// tree (tests/fixtures/openclipart): one picture of each kind the real
// packages hold, including the broken ones.
#include "world/openclipart.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "data/captions.h"
#include "data/image_io.h"
#include "world_fixture.h"

namespace fs = std::filesystem;
using world_test::read_json;

namespace {

const std::string kFixtures = std::string(SMOES_FIXTURES_DIR) + "/openclipart";

smoes::world::OpenClipartOptions fixture_options() {
  smoes::world::OpenClipartOptions o;
  o.png_root = kFixtures + "/png";
  o.svg_root = kFixtures + "/svg";
  o.image_size = 8;
  return o;
}

}  // namespace

TEST(OpenClipart, CaptionsAreTheAuthorsTitleDescriptionAndKeywords) {
  auto m = smoes::world::read_svg_metadata(kFixtures + "/svg/science/flask_bob_01.svg");
  EXPECT_EQ(m.title, "Chemistry Flask");  // white space collapsed
  EXPECT_EQ(m.creator, "Bob");
  // Keyword "Bob" is the author: dropped; of k1..k10 the first 8 are kept.
  const std::vector<std::string> flask = {"Chemistry Flask", "A chemistry flask with the \"required\" bubbles.",
                                          "k1, k2, k3, k4, k5, k6, k7, k8"};
  EXPECT_EQ(smoes::world::clipart_captions(m), flask);
  auto a = smoes::world::read_svg_metadata(kFixtures + "/svg/animals/armadillo_ann_01.svg");
  // The description "armadillo..." only repeats the title.
  const std::vector<std::string> armadillo = {"Armadillo", "animal, mammal"};
  EXPECT_EQ(smoes::world::clipart_captions(a), armadillo);
  for (const char* untitled : {"untitled_cat_01.svg", "selfie_gus_01.svg"})  // no title; the author's name as title
    EXPECT_TRUE(smoes::world::clipart_captions(smoes::world::read_svg_metadata(kFixtures + "/svg/misc/" + untitled)).empty())
        << untitled;
  try {
    smoes::world::read_svg_metadata(kFixtures + "/svg/misc/garbled_fay_01.svg");
    FAIL();
  } catch (const smoes::Error& e) {
    EXPECT_NE(std::string(e.what()).find("garbled_fay_01.svg: not readable as XML"), std::string::npos) << e.what();
  }
}

TEST(OpenClipart, ConvertsToACocoCaptionSetAndCountsWhatItSkipped) {
  const auto out = (fs::temp_directory_path() / "smoes_openclipart").string();
  auto report = smoes::world::convert_openclipart(fixture_options(), out);
  EXPECT_EQ(report.records, 7u);
  EXPECT_EQ(report.skipped, 5u);
  const std::map<std::string, size_t> reasons = {{"SVG not parseable", 1}, {"image not decodable", 1},
                                                 {"no SVG with metadata", 1}, {"no title in SVG metadata", 2}};
  EXPECT_EQ(report.reasons, reasons);

  auto doc = read_json(out + "/coco/annotations/captions_openclipart.json");
  ASSERT_EQ(doc["images"].size(), 2u);
  EXPECT_EQ(doc["images"][0]["source"], "animals/armadillo_ann_01.png");
  EXPECT_EQ(doc["annotations"].size(), 5u);

  // The loader reads it back (verifying MANIFEST.json hashes on the way).
  auto examples = smoes::data::load_coco_captions(out + "/coco", "openclipart");
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[1].targets[1], "A chemistry flask with the \"required\" bubbles.");

  // 8x4 picture, left half red, right half transparent: letterboxed on white, rows 2-5.
  auto img = smoes::data::decode_image(examples[0].image_paths[0]);
  ASSERT_EQ(img.width, 8);
  ASSERT_EQ(img.height, 8);
  auto px = [&](int x, int y) { return std::vector<int>(img.rgb.begin() + (y * 8 + x) * 3, img.rgb.begin() + (y * 8 + x) * 3 + 3); };
  EXPECT_EQ(px(0, 3), (std::vector<int>{255, 0, 0}));
  EXPECT_EQ(px(7, 3), (std::vector<int>{255, 255, 255}));
  EXPECT_EQ(px(0, 0), (std::vector<int>{255, 255, 255}));
}

TEST(OpenClipart, LimitAndMissingInstallAreHandled) {
  auto o = fixture_options();
  o.limit = 1;
  const auto out = (fs::temp_directory_path() / "smoes_openclipart_one").string();
  EXPECT_EQ(smoes::world::convert_openclipart(o, out).records, 1u);
  o.png_root = kFixtures + "/nowhere";
  try {
    smoes::world::convert_openclipart(o, out);
    FAIL();
  } catch (const smoes::Error& e) {
    EXPECT_NE(std::string(e.what()).find("make openclipart"), std::string::npos) << e.what();
  }
}
