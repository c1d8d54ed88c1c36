#include "core/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "../error_of.h"

using smoes::Config;
using nlohmann::json;

namespace {

std::string temp_path(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / "smoes_config_test";
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

}  // namespace

TEST(Config, DefaultsAreValid) { EXPECT_NO_THROW(Config().validate()); }

TEST(Config, JsonRoundTripKeepsEveryField) {
  Config c;
  c.moe.num_experts = 16;
  c.router.name = "smar";
  c.train.freeze = {"experts", "routers"};
  c.data.mixture = {{"refcoco", 2.0}, {"vqa_v2", 0.5}};
  Config back = Config::from_json(c.to_json());
  EXPECT_EQ(back.to_json(), c.to_json());
  EXPECT_EQ(back.train.freeze.size(), 2u);
  EXPECT_DOUBLE_EQ(back.data.mixture.at("refcoco"), 2.0);
}

TEST(Config, UnknownKeyIsNamedWithSuggestion) {
  json j = {{"moe", {{"topk", 2}}}};
  std::string msg = error_of([&] { Config::from_json(j, "run.json"); });
  EXPECT_NE(msg.find("run.json: moe.topk: unknown key"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean 'moe.top_k'"), std::string::npos) << msg;
}

TEST(Config, UnknownSectionIsAnError) {
  std::string msg = error_of([] { Config::from_json({{"optimizer", json::object()}}); });
  EXPECT_NE(msg.find("optimizer: unknown key"), std::string::npos) << msg;
}

TEST(Config, WrongTypeIsNamed) {
  std::string msg = error_of([] { Config::from_json({{"model", {{"d_model", "wide"}}}}); });
  EXPECT_NE(msg.find("model.d_model: expected an integer, got string"), std::string::npos) << msg;
  msg = error_of([] { Config::from_json({{"moe", {{"enabled", 1}}}}); });
  EXPECT_NE(msg.find("moe.enabled: expected true or false"), std::string::npos) << msg;
  msg = error_of([] { Config::from_json({{"train", {{"lr", "fast"}}}}); });
  EXPECT_NE(msg.find("train.lr: expected a number"), std::string::npos) << msg;
  msg = error_of([] { Config::from_json({{"train", {{"freeze", {"experts", 3}}}}}); });
  EXPECT_NE(msg.find("train.freeze[1]: expected a string"), std::string::npos) << msg;
  msg = error_of([] { Config::from_json({{"model", 3}}); });
  EXPECT_NE(msg.find("model: expected an object"), std::string::npos) << msg;
}

TEST(Config, OutOfRangeAndBadChoice) {
  std::string msg = error_of([] { Config::from_json({{"moe", {{"num_experts", 0}}}}); });
  EXPECT_NE(msg.find("moe.num_experts: value 0 is out of range"), std::string::npos) << msg;
  msg = error_of([] { Config::from_json({{"router", {{"name", "random"}}}}); });
  EXPECT_NE(msg.find("router.name: 'random' is not one of"), std::string::npos) << msg;
  msg = error_of([] { Config::from_json({{"model", {{"d_model", 1LL << 40}}}}); });
  EXPECT_NE(msg.find("does not fit in 32 bits"), std::string::npos) << msg;
}

TEST(Config, IncompatibleCombinations) {
  std::string msg = error_of([] { Config::from_json({{"moe", {{"num_experts", 4}, {"top_k", 6}}}}); });
  EXPECT_NE(msg.find("moe.top_k: top_k = 6 exceeds moe.num_experts = 4"), std::string::npos) << msg;
  msg = error_of([] { Config::from_json({{"model", {{"d_model", 100}, {"n_heads", 3}}}}); });
  EXPECT_NE(msg.find("model.n_heads"), std::string::npos) << msg;
  msg = error_of([] { Config::from_json({{"model", {{"vit_width", 18}, {"vit_heads", 2}}}}); });
  EXPECT_NE(msg.find("model.vit_width: 18 is not a multiple of 4"), std::string::npos) << msg;
  msg = error_of([] {
    Config::from_json({{"moe", {{"num_experts", 64}}},
                       {"router", {{"name", "hard_modality"}, {"text_experts", 48}, {"vision_experts", 8}}}});
  });
  EXPECT_NE(msg.find("does not add up to moe.num_experts = 64"), std::string::npos) << msg;
  EXPECT_NO_THROW(Config::from_json({{"moe", {{"num_experts", 64}}},
                                     {"router", {{"name", "hard_modality"}, {"text_experts", 48}, {"vision_experts", 16}}}}));
  msg = error_of([] { Config::from_json({{"train", {{"steps", 10}, {"warmup_steps", 20}}}}); });
  EXPECT_NE(msg.find("train.warmup_steps"), std::string::npos) << msg;
  msg = error_of([] { Config::from_json({{"model", {{"box_pointer", true}}}}); });
  EXPECT_NE(msg.find("model.box_pointer: the pointer's boxes are the dense head's"), std::string::npos) << msg;
}

TEST(Config, OverridesParseJsonValuesAndBareStrings) {
  Config c = Config::load("", {"moe.top_k=4", "router.name=smar", "train.lr=0.001", "moe.enabled=false",
                               "train.freeze=[\"experts\"]", "data.mixture={\"vqa_v2\":1}"});
  EXPECT_EQ(c.moe.top_k, 4);
  EXPECT_EQ(c.router.name, "smar");
  EXPECT_DOUBLE_EQ(c.train.lr, 0.001);
  EXPECT_FALSE(c.moe.enabled);
  EXPECT_EQ(c.train.freeze, std::vector<std::string>{"experts"});
  EXPECT_EQ(c.data.mixture.size(), 1u);
}

TEST(Config, BadOverridesAreErrors) {
  EXPECT_NE(error_of([] { Config::load("", {"moe.top_k"}); }).find("expected KEY=VALUE"), std::string::npos);
  EXPECT_NE(error_of([] { Config::load("", {"moe.top_kk=2"}); }).find("moe.top_kk: unknown key"), std::string::npos);
  EXPECT_NE(error_of([] { Config::load("", {"moe.top_k=two"}); }).find("expected an integer"), std::string::npos);
  EXPECT_NE(error_of([] { Config::load("", {"moe.top_k.x=1"}); }).find("moe.top_k: expected an integer, got object"),
            std::string::npos);
  EXPECT_NE(error_of([] { Config::load("", {"moe.top_k=2", "moe.top_k.x=1"}); }).find("moe.top_k is not a section"),
            std::string::npos);
}

TEST(Config, FileLoadSaveAndErrorsNameTheFile) {
  std::string path = temp_path("c.json");
  Config c;
  c.model.n_layers = 7;
  c.save(path);
  EXPECT_EQ(Config::load(path).model.n_layers, 7);
  EXPECT_EQ(Config::load(path, {"model.n_layers=3"}).model.n_layers, 3);

  std::ofstream(temp_path("bad.json")) << "{\"model\": {\"d_model\": 64,}";
  std::string msg = error_of([] { Config::load(temp_path("bad.json")); });
  EXPECT_NE(msg.find("bad.json: not valid JSON"), std::string::npos) << msg;
  msg = error_of([] { Config::load(temp_path("missing.json")); });
  EXPECT_NE(msg.find("missing.json: cannot open"), std::string::npos) << msg;
}

TEST(Config, ArchitectureDiffNamesShapeFieldsOnly) {
  Config a, b;
  b.moe.aux_loss_coef = 0.5;  // a loss weight may change between stages
  b.train.lr = 1.0;
  EXPECT_EQ(a.architecture_diff(b), "");
  b.moe.num_experts = 16;
  b.model.d_model = 512;
  std::string diff = a.architecture_diff(b);
  EXPECT_NE(diff.find("moe.num_experts 8 vs 16"), std::string::npos) << diff;
  EXPECT_NE(diff.find("model.d_model 256 vs 512"), std::string::npos) << diff;
}
