// smoes world generate: the embedded world, written as real dataset files.
#include <iostream>

#include "cli/commands.h"
#include "world/generate.h"

namespace smoes::cli {

Command add_world(CLI::App& app) {
  auto* world = app.add_subcommand("world", "The embedded procedural world (datasets in their real formats)");
  world->require_subcommand(1);
  auto* gen = world->add_subcommand("generate", "Write the world's datasets, corpus and MANIFEST.json");
  auto out = std::make_shared<std::string>();
  auto preset = std::make_shared<std::string>("tiny");
  auto seed = std::make_shared<uint64_t>(1);
  gen->add_option("--out", *out, "output directory")->required();
  gen->add_option("--preset", *preset, "tiny (seconds), quick (under a minute) or full")
      ->check(CLI::IsMember({"tiny", "quick", "full"}))
      ->capture_default_str();
  gen->add_option("--seed", *seed, "seed of every random choice")->capture_default_str();
  return {world, [=] { world::generate(world::WorldOptions::for_preset(*preset, *seed), *out); }};
}

}  // namespace smoes::cli
