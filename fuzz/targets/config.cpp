// Fuzz target: the config reader (core/config.h): a config file and the
// `--set KEY=VALUE` overrides applied to it. One input = the file's text,
// then kSeparator, then one override per line. Property: a config that
// loads writes back (to_json) to JSON that loads to the same config.
#include "core/config.h"

#include <sstream>

#include "fuzz_common.h"

using nlohmann::json;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parts = fuzz::split(fuzz::as_view(data, size), 2);
  const std::string file = fuzz::write_input("config/config.json", parts[0]);
  std::vector<std::string> overrides;
  std::istringstream lines{std::string(parts[1])};
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) overrides.push_back(line);

  smoes::Config config;
  bool ok = false;
  fuzz::guard("Config::load", [&] {
    config = smoes::Config::load(file, overrides);
    ok = true;
  });
  fuzz::guard("Config::load (no overrides)", [&] { smoes::Config::load(file); });
  fuzz::guard("Config::load (overrides only)", [&] { smoes::Config::load("", overrides); });
  if (!ok) return 0;
  json written = config.to_json();
  try {
    smoes::Config again = smoes::Config::from_json(written, "written back");
    if (again.to_json().dump() != written.dump()) fuzz::finding("Config::from_json(to_json()) differs");
    if (!config.architecture_diff(again).empty()) fuzz::finding("architecture_diff of a config with itself");
  } catch (const std::exception& e) {
    fuzz::finding(std::string("a loaded config does not load again from to_json(): ") + e.what());
  }
  return 0;
}
