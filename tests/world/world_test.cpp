#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "core/files.h"
#include "world/generate.h"
#include "world/render.h"
#include "world/rng.h"
#include "world/scene.h"
#include "world_fixture.h"

using namespace smoes::world;
namespace fs = std::filesystem;

using world_test::generate_tiny;
using world_test::read_json;

TEST(WorldRng, SameSeedSameStreamDifferentStreamsDiffer) {
  Rng a(7), b(7);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(a.next(), b.next());
  EXPECT_NE(Rng(7).fork("coco").next(), Rng(7).fork("cc").next());
  Rng c(3);
  for (int i = 0; i < 1000; ++i) {
    double u = c.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    ASSERT_LT(c.below(5), 5);
  }
}

TEST(WorldScene, TrainSplitNeverHoldsHeldOutPairsAndHeldoutAlwaysDoes) {
  Rng rng(1);
  for (int i = 0; i < 300; ++i) {
    for (const auto& o : sample_scene(rng, 64, "photo", "train", 6).objects) ASSERT_FALSE(is_held_out(o.shape, o.colour));
    auto s = sample_scene(rng, 64, "photo", "heldout", 6);
    bool any = false;
    for (const auto& o : s.objects) any = any || is_held_out(o.shape, o.colour);
    ASSERT_TRUE(any);
  }
}

TEST(WorldScene, ObjectCountIsUniformUpToMaxObjects) {
  Rng rng(3);
  for (int max_objects : {2, 6}) {
    std::vector<int> seen(7, 0);
    for (int i = 0; i < 600; ++i) ++seen.at(sample_scene(rng, 64, "photo", "any", max_objects).objects.size());
    EXPECT_EQ(seen[0], 0);
    for (int n = 1; n <= 6; ++n) {
      if (n > max_objects) EXPECT_EQ(seen[size_t(n)], 0) << n << " objects with max_objects " << max_objects;
      // Placement may give up on a crowded scene, so the largest counts may come up a little short.
      else EXPECT_GT(seen[size_t(n)], 600 / max_objects / 2) << n << " objects with max_objects " << max_objects;
    }
  }
  EXPECT_EQ(smoes::world::WorldOptions::for_preset("study", 1).max_objects, 2);
  EXPECT_EQ(smoes::world::WorldOptions::for_preset("quick", 1).max_objects, 6);
  auto one = smoes::world::WorldOptions::for_preset("tiny", 1);
  one.max_objects = 1;
  EXPECT_THROW(smoes::world::generate(one, (std::filesystem::temp_directory_path() / "smoes_world_one").string()),
               smoes::Error);
}

TEST(WorldRender, ClipartObjectCentreHasItsColourAndPhotoDiffers) {
  Scene s;
  s.domain = "clipart";
  s.background = "grey";
  Object o;
  o.shape = "square";
  o.colour = "red";
  o.size = "large";
  o.material = "rubber";
  o.cx = o.cy = 32;
  o.radius = 12;
  s.objects = {o};
  Rng rng(1);
  auto px = render(s, rng);
  auto at = [&](int x, int y, int c) { return int(px[(y * 64 + x) * 3 + c]); };
  auto red = colour_rgb("red", "clipart");
  for (int c = 0; c < 3; ++c) EXPECT_EQ(at(32, 32, c), int(red[c]));
  EXPECT_EQ(at(2, 2, 0), 245);  // paper background far from the object
  EXPECT_LT(at(32 - 10, 32, 0), 40);  // dark outline at the square's edge (0.85 * 12 = 10.2)
  s.domain = "photo";
  auto photo = render(s, rng);
  EXPECT_NE(std::vector<uint8_t>(photo.begin(), photo.end()), px);
}

TEST(WorldGenerate, SameSeedSameBytesDifferentSeedDifferentBytes) {
  auto a = generate_tiny("a", 5), b = generate_tiny("b", 5), c = generate_tiny("c", 6);
  auto ma = read_json(a + "/MANIFEST.json"), mb = read_json(b + "/MANIFEST.json"), mc = read_json(c + "/MANIFEST.json");
  EXPECT_EQ(ma["files"], mb["files"]);
  EXPECT_NE(ma["files"], mc["files"]);
  EXPECT_EQ(smoes::read_file(a + "/coco/annotations/captions_train2014.json"),
            smoes::read_file(b + "/coco/annotations/captions_train2014.json"));
}

TEST(WorldGenerate, FilesParseAndMatchTheManifest) {
  auto dir = generate_tiny("check", 9);
  auto manifest = read_json(dir + "/MANIFEST.json");
  EXPECT_EQ(manifest["generator"], "smoes-world");
  for (const auto& [rel, hash] : manifest["files"].items()) ASSERT_EQ(smoes::sha256_file(dir + "/" + rel), hash) << rel;

  auto coco = read_json(dir + "/coco/annotations/captions_train2014.json");
  ASSERT_EQ(coco["images"].size(), manifest["counts"]["coco_train2014"].get<size_t>());
  EXPECT_EQ(coco["annotations"].size(), 5 * coco["images"].size());
  for (const auto& img : coco["images"]) {
    EXPECT_TRUE(fs::exists(dir + "/coco/images/train2014/" + img["file_name"].get<std::string>()));
    EXPECT_EQ(img["width"], 64);
  }
  std::set<int64_t> ids;
  for (const auto& ann : coco["annotations"]) {
    EXPECT_TRUE(ann["caption"].is_string());
    ids.insert(ann["image_id"].get<int64_t>());
  }
  EXPECT_EQ(ids.size(), coco["images"].size());

  std::ifstream tsv(dir + "/cc/Train_GCC-training.tsv");
  std::string line;
  int lines = 0;
  while (std::getline(tsv, line)) {
    auto tab = line.find('\t');
    ASSERT_NE(tab, std::string::npos) << line;
    EXPECT_TRUE(fs::exists(dir + "/cc/" + line.substr(tab + 1)));
    ++lines;
  }
  EXPECT_EQ(lines, manifest["counts"]["cc_train"].get<int>());
  EXPECT_NE(smoes::read_file(dir + "/corpus/world_corpus.txt").find("Wood floats"), std::string::npos);
}

TEST(WorldGenerate, UnknownPresetIsAnError) {
  EXPECT_THROW(WorldOptions::for_preset("huge", 1), smoes::Error);
}
