// `smoes analyze routing` on a tiny model: prefill + decode routing reaches
// every number, padding changes nothing, a router without soft scores still
// gets the rest, router bins are read when present, the trace has one line
// per routed token and layer, and the report renders.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "../error_of.h"
#include "../tiny_run.h"
#include "analysis/routing_probe.h"
#include "analysis/routing_report.h"
#include "core/files.h"
#include "train/run.h"

using namespace smoes;

namespace {

struct Tiny {
  Tiny()
      : root(tiny_run::make_world("smoes_routing_world")),
        cfg(tiny_run::small_config(root, "unused")),
        tok(root + "/tokenizer.model"),
        cache("", cfg.model.image_size),
        model(train::build_model(cfg, tok)) {}
  std::string root;
  Config cfg;
  data::Tokenizer tok;
  data::ImageCache cache;
  model::MoEVLM model;
};

Tiny& tiny() {
  static Tiny t;
  return t;
}

analysis::RoutingProbeOptions small_options(int batch_size) {
  analysis::RoutingProbeOptions o;
  o.examples = 3;
  o.batch_size = batch_size;
  o.new_tokens = 4;
  o.devices = {2, 4};
  return o;
}

nlohmann::json probe(const analysis::RoutingProbeOptions& o) {
  auto& t = tiny();
  return analysis::probe_routing(t.model, t.tok, t.cache, t.root, {"coco_captions", "refcoco"}, o);
}

}  // namespace

TEST(RoutingProbe, TopkRunHasEveryNumberButSoftScores) {
  auto r = probe(small_options(3));
  const auto layers = size_t(tiny().cfg.model.n_layers);
  EXPECT_EQ(r["examples"], 6);
  EXPECT_EQ(r["router"], "topk");
  EXPECT_TRUE(r["soft_scores"].is_null());
  EXPECT_EQ(r["soft_scores_note"], "absent: this router has no soft modality scores");
  ASSERT_TRUE(r["msi"].is_number());
  EXPECT_GE(r["msi"].get<double>(), 0.0);
  EXPECT_LE(r["msi"].get<double>(), 1.0);
  ASSERT_EQ(r["text_fraction"].size(), layers);
  EXPECT_EQ(r["text_fraction"][0].size(), 4u);
  EXPECT_EQ(r["bins_from"], "measured_loads");
  ASSERT_EQ(r["mutual_information"].size(), layers);
  EXPECT_GE(r["mutual_information"][0].get<double>(), 0.0);
  ASSERT_EQ(r["layers"].size(), layers);
  EXPECT_GT(r["layers"][0]["vision_tokens"].get<int64_t>(), 0);
  const auto& ep = r["expert_parallel"]["devices"];
  ASSERT_EQ(ep.size(), 2u);
  EXPECT_EQ(ep[1]["devices"], 4);
  const auto& all = ep[0]["all_layers"];
  // Every decode token is text; prefill has both modalities; rates are fractions.
  EXPECT_EQ(all["decode"]["vision"]["tokens"], 0);
  EXPECT_GT(all["decode"]["text"]["tokens"].get<int64_t>(), 0);
  for (const char* m : {"text", "vision", "all"}) {
    const double rate = all["prefill"][m]["cross_rate"].get<double>();
    EXPECT_GE(rate, 0.0);
    EXPECT_LE(rate, 1.0);
  }
  // Routed tokens per layer = prefill + decode tokens.
  const auto& l0 = r["layers"][0];
  EXPECT_EQ(l0["tokens"].get<int64_t>() * int64_t(layers),
            all["prefill"]["all"]["tokens"].get<int64_t>() + all["decode"]["all"]["tokens"].get<int64_t>());
}

TEST(RoutingProbe, LeftPaddedBatchesGiveTheSameStatisticsAsOneExampleAtATime) {
  auto one = probe(small_options(1));
  auto padded = probe(small_options(3));
  for (size_t l = 0; l < one["layers"].size(); ++l) {
    EXPECT_EQ(one["layers"][l]["text_load"], padded["layers"][l]["text_load"]) << "layer " << l;
    EXPECT_EQ(one["layers"][l]["vision_load"], padded["layers"][l]["vision_load"]) << "layer " << l;
    EXPECT_EQ(one["layers"][l]["tokens"], padded["layers"][l]["tokens"]);
  }
  EXPECT_NEAR(one["msi"].get<double>(), padded["msi"].get<double>(), 1e-12);
  EXPECT_EQ(one["expert_parallel"], padded["expert_parallel"]);
}

TEST(RoutingProbe, TraceHasOneLinePerRoutedTokenAndLayer) {
  auto path = (std::filesystem::temp_directory_path() / "smoes_routing_trace.jsonl").string();
  std::filesystem::remove(path);
  auto o = small_options(2);
  o.trace = path;
  auto r = probe(o);
  std::ifstream in(path);
  std::string line;
  int64_t lines = 0, decode = 0, vision = 0;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    ++lines;
    decode += j["phase"] == "decode";
    vision += j["modality"] == 1;
    ASSERT_EQ(j["experts"].size(), 2u);
    ASSERT_TRUE(j.contains("token") && j.contains("example") && j.contains("pos"));
    EXPECT_LT(j["example"].get<int>(), 6);
    EXPECT_FALSE(j.contains("soft"));
  }
  int64_t routed = 0, vision_routed = 0;
  for (const auto& l : r["layers"]) routed += l["tokens"].get<int64_t>(), vision_routed += l["vision_tokens"].get<int64_t>();
  EXPECT_EQ(lines, routed);
  EXPECT_EQ(vision, vision_routed);
  EXPECT_EQ(decode, r["expert_parallel"]["devices"][0]["all_layers"]["decode"]["all"]["tokens"].get<int64_t>());
}

TEST(RoutingProbe, ReadsTheRoutersExpertBinsAndPlacesByThem) {
  // A fresh model whose routers carry SMoES' expert_bin buffer.
  auto& t = tiny();
  auto model = train::build_model(t.cfg, t.tok);
  for (size_t i = 0; i < model->blocks->size(); ++i)
    model->blocks[i]->as<model::DecoderBlock>()->moe->router->register_buffer(
        "expert_bin", torch::tensor({1, 0, 1, 0}, torch::kLong));
  EXPECT_EQ(analysis::router_bins(model).at(0), (std::vector<int64_t>{1, 0, 1, 0}));
  auto r = analysis::probe_routing(model, t.tok, t.cache, t.root, {"coco_captions"}, small_options(3));
  EXPECT_EQ(r["bins_from"], "router");
  EXPECT_EQ(r["bins"][1], (std::vector<int64_t>{1, 0, 1, 0}));
  // Bin 0 (experts 1, 3) on device 0, bin 1 (experts 0, 2) on device 1.
  EXPECT_EQ(r["expert_parallel"]["devices"][0]["layers"][0]["device_of_expert"], (std::vector<int64_t>{1, 0, 1, 0}));
}

TEST(RoutingProbe, DevicesBeyondTheExpertsAreRefusedBeforeAnyForward) {
  auto o = small_options(3);
  o.devices = {2, 64};
  auto err = error_of([&] { probe(o); });
  EXPECT_NE(err.find("--devices 64"), std::string::npos) << err;
}

TEST(RoutingReport, MarkdownAndPlotsAreWritten) {
  auto r = probe(small_options(3));
  auto base = (std::filesystem::temp_directory_path() / "smoes_routing_report" / "analyze_routing_val").string();
  std::filesystem::remove_all(std::filesystem::path(base).parent_path());
  std::filesystem::create_directories(std::filesystem::path(base).parent_path());
  auto files = analysis::write_routing_report(r, base);
  auto md = smoes::read_file(base + ".md");
  EXPECT_NE(md.find("| devices | prefill vision"), std::string::npos) << md;
  EXPECT_NE(md.find("absent: this router has no soft modality scores"), std::string::npos);
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) GTEST_SKIP() << "no gnuplot: plots are skipped";
  for (const char* plot : {"text_fraction", "per_layer", "cross_device"}) {
    EXPECT_GT(std::filesystem::file_size(base + "_" + plot + ".png"), 1000u) << plot;
    EXPECT_GT(std::filesystem::file_size(base + "_" + plot + ".svg"), 1000u) << plot;
    EXPECT_NE(md.find(std::string("analyze_routing_val_") + plot + ".png"), std::string::npos);
  }
  EXPECT_FALSE(std::filesystem::exists(base + "_soft_scores.png"));  // no soft scores, no plot

  // With soft scores (as an SMoES router reports them) their plot and column appear.
  for (int layer = 0; layer < 2; ++layer)
    r["soft_scores"].push_back({{"layer", layer},
                                {"text", {{"mean_vision_score", 0.1 + 0.2 * layer}}},
                                {"vision", {{"mean_vision_score", 0.9 - 0.2 * layer}}}});
  analysis::write_routing_report(r, base);
  EXPECT_GT(std::filesystem::file_size(base + "_soft_scores.png"), 1000u);
  EXPECT_NE(smoes::read_file(base + ".md").find("0.300 / 0.700"), std::string::npos);
}
