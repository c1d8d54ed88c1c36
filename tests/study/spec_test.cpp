// Study specs: the shipped ones load (every model config with its
// overrides), and a bad spec is refused naming the file and the field.
#include "study/spec.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "../error_of.h"
#include "core/error.h"
#include "study/grid.h"
#include "study/questions.h"

using namespace smoes;
namespace fs = std::filesystem;

namespace {

const fs::path kRepo = fs::path(SMOES_FIXTURES_DIR) / ".." / "..";

// A spec in the repo's grid folder (so its relative config paths resolve), removed afterwards.
struct TempSpec {
  explicit TempSpec(const nlohmann::json& j) {
    path = (kRepo / "configs" / "study" / "grid" / ("test_tmp_" + std::to_string(::getpid()) + ".json")).string();
    std::ofstream(path) << j.dump();
  }
  ~TempSpec() { fs::remove(path); }
  std::string path;
};

nlohmann::json minimal() {
  return {{"seeds", {1, 2}},
          {"models",
           {{{"name", "vision"}, {"config", "../vision.json"}, {"per_seed", false}},
            {{"name", "topk"}, {"config", "../topk.json"}, {"from", "vision"}},
            {{"name", "smoes"}, {"config", "../smoes_attention.json"}, {"from", "vision"}}}},
          {"questions",
           {{"rq4",
             {{"equal_active", {{"8", "topk"}}},
              {"equal_total", {{"8", "smoes"}}},
              {"id_task", "coco_captions"},
              {"ood_task", "cc"}}}}}};
}

std::string error_of_spec(const nlohmann::json& j) {
  TempSpec s(j);
  return error_of([&] { study::load_spec(s.path); });
}

}  // namespace

TEST(StudySpec, EveryShippedSpecLoadsAndAsksAllFiveQuestions) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(kRepo / "configs" / "study" / "grid")) {
    if (e.path().extension() != ".json" || e.path().filename().string().rfind("test_tmp_", 0) == 0) continue;
    auto spec = study::load_spec(e.path().string());
    EXPECT_EQ(spec.questions.size(), 5u) << e.path();
    EXPECT_FALSE(study::needs(spec).empty());
    ++n;
  }
  EXPECT_GE(n, 2);  // quick and full
}

TEST(StudySpec, FullPresetIsEvidenceWithThreeSeedsQuickIsNot) {
  auto full = study::load_spec(study::preset_path(kRepo.string(), "full"));
  auto quick = study::load_spec(study::preset_path(kRepo.string(), "quick"));
  EXPECT_TRUE(full.evidence);
  EXPECT_GE(full.seeds.size(), 3u);
  EXPECT_FALSE(quick.evidence);
}

TEST(StudySpec, BadSpecsNameTheFieldAndProblem) {
  {
    TempSpec ok(minimal());
    EXPECT_NO_THROW(study::load_spec(ok.path));
  }
  auto j = minimal();
  j["seedz"] = 1;
  EXPECT_NE(error_of_spec(j).find("seedz: unknown field"), std::string::npos);
  j = minimal();
  j["seeds"] = nlohmann::json::array();
  EXPECT_NE(error_of_spec(j).find("seeds: needs at least one seed"), std::string::npos);
  j = minimal();
  j["models"][1]["from"] = "nope";
  EXPECT_NE(error_of_spec(j).find("no model named 'nope'"), std::string::npos);
  j = minimal();
  j["models"][2]["name"] = "topk";
  EXPECT_NE(error_of_spec(j).find("models[2].name: 'topk' is declared twice"), std::string::npos);
  j = minimal();
  j["models"][1]["set"] = {{"moe.top_k", 99}};
  EXPECT_NE(error_of_spec(j).find("models[1].config"), std::string::npos);
  j = minimal();
  j["models"][1]["config"] = "../missing.json";
  EXPECT_NE(error_of_spec(j).find("missing.json"), std::string::npos);
  j = minimal();
  j["questions"]["rq4"]["equal_active"]["8"] = "ghost";
  EXPECT_NE(error_of_spec(j).find("questions.rq4.equal_active.8"), std::string::npos);
  j = minimal();
  j["questions"]["rq4"]["equal_active"] = {{"eight", "topk"}};
  EXPECT_NE(error_of_spec(j).find("the label must be the number of experts"), std::string::npos);
  j = minimal();
  j["questions"]["rq9"] = nlohmann::json::object();
  EXPECT_NE(error_of_spec(j).find("questions.rq9: unknown question"), std::string::npos);
  j = minimal();
  j["questions"]["rq4"].erase("ood_task");
  EXPECT_NE(error_of_spec(j).find("questions.rq4.ood_task: missing"), std::string::npos);
  j = minimal();
  j["models"][0]["per_seed"] = true;
  j["models"][1]["per_seed"] = false;
  EXPECT_NE(error_of_spec(j).find("a shared model cannot start from the per-seed model"), std::string::npos);
}

TEST(StudyGrid, RunsAreKeyedByResolvedConfigAndShareWhenEqual) {
  auto j = minimal();
  j["models"].push_back({{"name", "topk_again"}, {"config", "../topk.json"}, {"from", "vision"}});
  j["models"].push_back(
      {{"name", "topk_short"}, {"config", "../topk.json"}, {"from", "vision"}, {"set", {{"train.steps", 700}}}});
  TempSpec s(j);
  auto spec = study::load_spec(s.path);
  auto grid = study::expand(spec, "/tmp/study_out");
  // vision once; topk, smoes, topk_short per seed; topk_again merged into topk.
  ASSERT_EQ(grid.runs.size(), 1u + 3 * 2);
  const auto* topk1 = grid.find("topk", 1);
  const auto* again1 = grid.find("topk_again", 1);
  ASSERT_TRUE(topk1 && again1);
  EXPECT_EQ(topk1, again1);
  EXPECT_NE(grid.find("topk", 2)->key, topk1->key);           // the seed is in the config
  EXPECT_NE(grid.find("topk_short", 1)->key, topk1->key);     // so is every override
  EXPECT_EQ(grid.find("vision", 2), grid.find("vision", 1));  // shared stage 0
  EXPECT_EQ(topk1->parent, "vision");
  EXPECT_EQ(topk1->dir, "/tmp/study_out/runs/" + topk1->key);
  EXPECT_EQ(topk1->config["train"]["init_from"], grid.find("vision", 1)->dir);
  EXPECT_EQ(topk1->config["train"]["out_dir"], topk1->dir);
  // The key does not depend on where the study is written.
  EXPECT_EQ(study::expand(spec, "/elsewhere").find("topk", 1)->key, topk1->key);
  // Both rq4 roles get the eval of both captioning tasks.
  ASSERT_EQ(topk1->steps.size(), 1u);
  EXPECT_EQ(topk1->steps[0].file(spec), "study_eval_val_coco_captions+cc_n100.json");
  EXPECT_TRUE(grid.find("vision", 1)->steps.empty());
}

TEST(StudyGrid, ParentsComeBeforeChildrenAndAParentChangeChangesTheChildKey) {
  TempSpec a(minimal());
  auto spec = study::load_spec(a.path);
  auto grid = study::expand(spec, "/tmp/o");
  for (size_t i = 0; i < grid.runs.size(); ++i)
    if (!grid.runs[i].parent.empty()) {
      bool before = false;
      for (size_t k = 0; k < i; ++k) before |= grid.runs[k].id == grid.runs[i].parent;
      EXPECT_TRUE(before) << grid.runs[i].id;
    }
  auto j = minimal();
  j["models"][0]["set"] = {{"train.steps", 300}};
  TempSpec b(j);
  auto changed = study::expand(study::load_spec(b.path), "/tmp/o");
  EXPECT_NE(changed.find("topk", 1)->key, grid.find("topk", 1)->key);
}
