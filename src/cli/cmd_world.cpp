// smoes world generate: the embedded world, written as real dataset files.
// smoes world openclipart: Debian's real clip art as a COCO caption set.
#include <cstdio>

#include "cli/commands.h"
#include "core/files.h"
#include "world/generate.h"
#include "world/openclipart.h"

namespace smoes::cli {

Command add_world(CLI::App& app) {
  auto* world = app.add_subcommand("world", "The embedded procedural world (datasets in their real formats)");
  world->require_subcommand(1);

  auto* gen = world->add_subcommand("generate", "Write the world's datasets, corpus and MANIFEST.json");
  auto out = std::make_shared<std::string>();
  auto preset = std::make_shared<std::string>("tiny");
  auto seed = std::make_shared<uint64_t>(1);
  gen->add_option("--out", *out, "output directory")->required();
  gen->add_option("--preset", *preset, "tiny (seconds), quick (under a minute), study (quick's sizes, 1-2 objects per scene) or full")
      ->check(CLI::IsMember({"tiny", "quick", "study", "full"}))
      ->capture_default_str();
  gen->add_option("--seed", *seed, "seed of every random choice")->capture_default_str();

  auto* clip = world->add_subcommand(
      "openclipart", "Convert Debian's openclipart pictures and their authors' titles into a COCO caption set");
  auto oc = std::make_shared<world::OpenClipartOptions>();
  clip->add_option("--out", *out, "output directory (captions_openclipart.json, images, MANIFEST.json)")->required();
  clip->add_option("--png-root", oc->png_root, "pictures (package openclipart-png)")->capture_default_str();
  clip->add_option("--svg-root", oc->svg_root, "their SVGs with metadata (package openclipart-svg)")->capture_default_str();
  clip->add_option("--size", oc->image_size, "side of the square output pictures")->check(CLI::Range(8, 1024))->capture_default_str();
  clip->add_option("--limit", oc->limit, "convert the first N pictures only (0 = all)")->check(at_least(0))->capture_default_str();

  return {world, [=] {
            ensure_writable_dir(*out, "--out");
            if (gen->parsed()) {
              world::generate(world::WorldOptions::for_preset(*preset, *seed), *out);
              return;
            }
            auto report = world::convert_openclipart(*oc, *out);
            std::printf("openclipart: %zu pictures read, %zu skipped\n", report.records, report.skipped);
            for (const auto& [reason, n] : report.reasons) std::printf("  skipped %zu: %s\n", n, reason.c_str());
            std::printf("score a run on it: smoes eval --ckpt RUN --task coco_captions --split openclipart --root %s\n",
                        out->c_str());
          }};
}

}  // namespace smoes::cli
