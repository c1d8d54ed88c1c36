// The config reader on hostile input: the fuzz findings of the config target
// (tests/fixtures/fuzz/config/) and the JSON nesting limit (core/json_input.h).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "../error_of.h"
#include "../fuzz_regression.h"
#include "core/config.h"
#include "core/error.h"
#include "core/json_input.h"

using nlohmann::json;
using smoes::Config;

namespace {

std::string temp_file(const std::string& name, const std::string& text) {
  auto dir = std::filesystem::temp_directory_path() / "smoes_hostile_config";
  std::filesystem::create_directories(dir);
  std::string path = (dir / name).string();
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// A regression input of the config target: the file, then one --set per line.
std::string config_load_error(const std::string& name) {
  auto parts = fuzz_regression::split(fuzz_regression::bytes("config", name));
  std::string file = temp_file(name + ".json", parts[0]);
  std::vector<std::string> overrides;
  if (parts.size() > 1) {
    std::istringstream lines(parts[1]);
    for (std::string line; std::getline(lines, line);)
      if (!line.empty()) overrides.push_back(line);
  }
  return error_of([&] { Config::load(file, overrides); });
}

std::string nested(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

}  // namespace

// Found by the fuzzer: a --set value that is not UTF-8 made the config's
// error message (and Config::save) throw nlohmann's type_error 316.
TEST(HostileConfig, SetValueThatIsNotUtf8IsRefused) {
  std::string msg = config_load_error("set_invalid_utf8");
  EXPECT_HAS(msg, "--set (an argument of 19 bytes): not valid UTF-8 text");
}

// A config file whose top level is a list: --set indexed it as an object
// (nlohmann type_error 305).
TEST(HostileConfig, TopLevelThatIsNotAnObjectIsRefusedBeforeOverrides) {
  std::string msg = config_load_error("top_level_array");
  EXPECT_HAS(msg, "top_level_array.json: (top level): expected a JSON object, got array");
}

// A number too large for a double: nlohmann throws out_of_range, not parse_error.
TEST(HostileConfig, NumberOverflowIsInvalidJson) {
  std::string msg = config_load_error("number_overflow");
  EXPECT_HAS(msg, "number_overflow.json: not valid JSON: ");
  EXPECT_HAS(msg, "number overflow");
}

TEST(HostileConfig, IntegerListEntriesMustFitIn32Bits) {
  std::string msg = error_of([] { Config::load("", {"moe.layer_experts=[4294967298]"}); });
  EXPECT_HAS(msg, "moe.layer_experts[0]: integer 4294967298 does not fit in 32 bits");
}

TEST(HostileConfig, QuotedValuesAreCutOnACharacterBoundary) {
  // 36 ASCII bytes then 2-byte characters: the cut at 37 would split one.
  json j = {{"model", {{"d_model", std::string(35, 'x') + "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"}}}};
  std::string msg = error_of([&] { Config::from_json(j, "c.json"); });
  EXPECT_HAS(msg, "c.json: model.d_model: expected an integer, got string");
  EXPECT_NO_THROW(json(msg).dump());  // valid UTF-8
}

TEST(HostileConfig, DeepNestingIsRefusedNamingTheFileAndTheLimit) {
  std::string file = temp_file("deep.json", "{\"data\": {\"mixture\": " + nested(5000) + "}}");
  std::string msg = error_of([&] { Config::load(file); });
  EXPECT_HAS(msg, "deep.json: JSON nested deeper than 1000 levels (at byte 1019); refusing to read it");
  msg = error_of([] { Config::load("", {"data.eval_tasks=" + nested(1001)}); });
  EXPECT_HAS(msg, "--set data.eval_tasks=[[[");
  EXPECT_HAS(msg, "JSON nested deeper than 1000 levels");
}

TEST(JsonDepth, CountsBracketsOutsideStringsOnly) {
  EXPECT_NO_THROW(smoes::check_json_depth(nested(smoes::kJsonMaxDepth), "ok.json"));
  EXPECT_HAS(error_of([] { smoes::check_json_depth(nested(smoes::kJsonMaxDepth + 1), "x.json"); }),
             "x.json: JSON nested deeper than 1000 levels (at byte 1000)");
  // Brackets in strings, escaped quotes included, are text.
  std::string text = "[\"" + std::string(5000, '[') + "\\\"" + std::string(5000, '{') + "\"]";
  EXPECT_NO_THROW(smoes::check_json_depth(text, "s.json"));
  // Closing brackets at depth 0 (invalid JSON) do not hide a later deep part.
  EXPECT_HAS(error_of([] { smoes::check_json_depth("]]]]" + nested(1001), "y.json"); }), "y.json: JSON nested");
}
