// The results-file readers on hostile input: the fuzz findings of the results
// target (tests/fixtures/fuzz/results/) and the JSON nesting limit.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "../error_of.h"
#include "../fuzz_regression.h"
#include "core/error.h"
#include "eval/results.h"

using namespace smoes::eval;

// Found by the fuzzer: a number too large for a double made nlohmann throw
// out_of_range (not parse_error), which escaped every reader.
TEST(HostileResults, NumberOverflowIsInvalidJsonInEveryReader) {
  const std::string file = fuzz_regression::path("results", "number_overflow.json");
  for (auto read :
       {+[](const std::string& f) { read_caption_results(f); }, +[](const std::string& f) { read_answer_results(f); },
        +[](const std::string& f) { read_box_results(f); }, +[](const std::string& f) { read_vcr_results(f); }}) {
    std::string msg = error_of([&] { read(file); });
    EXPECT_HAS(msg, file + ": not valid JSON: ");
    EXPECT_HAS(msg, "number overflow parsing '11e308'");
  }
}

TEST(HostileResults, DeepNestingIsRefusedNamingTheFileAndTheLimit) {
  auto dir = std::filesystem::temp_directory_path() / "smoes_hostile_results";
  std::filesystem::create_directories(dir);
  const std::string file = (dir / "deep.json").string();
  std::ofstream(file) << "{\"1\": " << std::string(100000, '[') << std::string(100000, ']') << "}";
  std::string msg = error_of([&] { read_answer_results(file); });
  EXPECT_HAS(msg, file + ": JSON nested deeper than 1000 levels (at byte 1005); refusing to read it");
}
