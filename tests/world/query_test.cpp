// Scene-graph queries and simulated annotators on hand-made scenes.
#include <gtest/gtest.h>

#include "world/answers.h"
#include "world/knowledge.h"
#include "world/query.h"
#include "world_fixture.h"

using namespace smoes::world;

namespace {

Object make(const std::string& shape, const std::string& colour, const std::string& size, const std::string& material,
            double cx, double cy) {
  return Object{shape, colour, size, material, cx, cy, size == "large" ? 11.0 : 5.0};
}

Scene three_circles() {
  Scene s;
  s.domain = "photo";
  s.background = "grey";
  s.objects = {make("circle", "red", "small", "rubber", 10, 30), make("circle", "red", "large", "metal", 50, 30),
               make("square", "blue", "small", "wood", 30, 10)};
  return s;
}

}  // namespace

TEST(WorldQuery, UniqueFiltersUseTheFewestAttributes) {
  Scene s = three_circles();
  auto f = unique_filters(s, 2);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].noun(), "square");
  auto g = unique_filters(s, 0);  // size or material tells the two red circles apart
  ASSERT_EQ(g.size(), 2u);
  for (const auto& x : g) EXPECT_EQ(select(s, x), std::vector<int>{0});
  EXPECT_TRUE(unique_filters(s, 0, "size").size() == 1);  // material only
  s.objects.push_back(s.objects[0]);
  s.objects.back().cx = 12;
  EXPECT_TRUE(unique_filters(s, 0).empty());  // an identical twin
}

TEST(WorldQuery, RelationsAndSuperlativesResolveToOneObject) {
  Scene s = three_circles();
  EXPECT_EQ(clear_relation(s.objects[0], s.objects[1]), "left of");
  EXPECT_EQ(clear_relation(s.objects[2], s.objects[0]), "");  // diagonal: no clear relation
  Ref left{Filter{"", "", "", "circle"}, "", {}, "leftmost"};
  EXPECT_EQ(resolve(s, left), std::vector<int>{0});
  Ref rel{Filter{"", "", "", "circle"}, "left of", Filter{"", "red", "metal", "circle"}, ""};
  EXPECT_EQ(resolve(s, rel), std::vector<int>{0});
  Ref ambiguous{Filter{"", "", "", "circle"}, "below", Filter{"", "", "", "square"}, ""};
  EXPECT_EQ(resolve(s, ambiguous).size(), 2u);
  Rng rng(3);
  for (int i = 0; i < 3; ++i) {
    auto ref = refer_to(s, i, rng);
    ASSERT_TRUE(ref);
    EXPECT_EQ(resolve(s, *ref), std::vector<int>{i}) << ref->text();
    EXPECT_EQ(resolve(s, world_test::parse_ref(ref->text())), std::vector<int>{i}) << ref->text();
  }
}

TEST(WorldQuery, FiltersPhraseAndCount) {
  Scene s = three_circles();
  Filter f{"", "red", "", "circle"};
  EXPECT_EQ(count(s, f), 2);
  EXPECT_EQ(f.nouns(), "red circles");
  EXPECT_EQ(Filter{}.nouns(), "objects");
  EXPECT_EQ(with_article(Filter{"", "", "wood", "square"}.noun()), "a wooden square");
  EXPECT_EQ(with_article("orange circle"), "an orange circle");
}

TEST(WorldAnswers, TruthIsAlwaysTheStrictMajority) {
  Rng rng(11);
  for (const char* truth : {"yes", "no", "2", "0", "red", "circle", "metal", "sand"}) {
    for (int rep = 0; rep < 200; ++rep) {
      auto answers = human_answers(truth, rng);
      ASSERT_EQ(answers.size(), 10u);
      EXPECT_EQ(most_common(answers), truth);
      int n = 0;
      for (const auto& a : answers) {
        n += a.answer == truth;
        EXPECT_TRUE(a.confidence == "yes" || a.confidence == "maybe" || a.confidence == "no");
      }
      EXPECT_GE(n, 4);
    }
  }
}

TEST(WorldKnowledge, EveryMaterialHasEveryPropertyDecided) {
  for (const auto& p : properties()) {
    EXPECT_FALSE(p.materials.empty()) << p.name;
    EXPECT_LT(p.materials.size(), Vocabulary::materials().size()) << p.name;
    EXPECT_GE(p.facts.size(), 2u) << p.name;
  }
  EXPECT_TRUE(has_property("wood", property("floats")));
  EXPECT_FALSE(has_property("metal", property("floats")));
}

TEST(WorldScene, BoxesAreTightAndInsideTheImage) {
  Scene s = three_circles();
  s.width = s.height = 64;
  s.objects[0].cx = 2;  // partly outside on the left: the box is clipped
  for (const auto& o : s.objects) {
    auto b = bbox(s, o);
    EXPECT_GE(b[0], 0);
    EXPECT_GE(b[1], 0);
    EXPECT_LE(b[0] + b[2], 64.0 + 1e-9);
    EXPECT_GT(area(s, o), 0);
  }
  Object sq = make("square", "red", "large", "rubber", 32, 32);
  auto b = bbox(s, sq);
  EXPECT_NEAR(b[2], 2 * 0.85 * 11, 0.02);  // the square's drawn half-width is 0.85 r
}
