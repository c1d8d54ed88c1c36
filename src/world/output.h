// What every dataset writer of the world shares: the Writer (files + their
// SHA-256 for MANIFEST.json, record counts per dataset/split), image file
// names, and rendering of many scenes on a few threads with byte-stable
// output (each image's sensor noise comes from its own seed, drawn in order
// from the dataset's stream, so thread scheduling never changes a byte).
#pragma once
#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "world/generate.h"
#include "world/rng.h"
#include "world/scene.h"

namespace smoes::world {

extern const char* const kGeneratorVersion;

// Collects written files so the manifest can list their hashes. Thread-safe.
// Files are written directly (no per-file fsync: the generator syncs the file
// system once before writing MANIFEST.json, and a file whose hash does not
// match the manifest is rejected by the loaders).
class Writer {
 public:
  explicit Writer(std::string root) : root_(std::move(root)) {}
  void write(const std::string& rel, const std::string& bytes);
  void write_json(const std::string& rel, const nlohmann::json& doc) { write(rel, doc.dump()); }
  // One JSON document per line.
  void write_jsonl(const std::string& rel, const std::vector<nlohmann::json>& lines);
  // Records per dataset/split for MANIFEST.json: counts()[dataset][split][what] = n.
  void count(const std::string& dataset, const std::string& split, const std::string& what, int64_t n);
  // Any other measured value for MANIFEST.json: counts()[dataset][key] = value.
  void note(const std::string& dataset, const std::string& key, const nlohmann::json& value);
  // Flushes every written file to disk (syncfs on the output directory).
  void sync() const;

  const std::string& root() const { return root_; }
  std::map<std::string, std::string> files() const;
  nlohmann::json counts() const;

 private:
  std::string root_;
  mutable std::mutex mutex_;
  std::map<std::string, std::string> files_;
  nlohmann::json counts_ = nlohmann::json::object();
};

// printf-style file name with one integer, e.g. ("COCO_train2014_%012lld.png", 7).
std::string image_name(const char* pattern, int64_t id);

// One image to render: its path (relative to the output root), its scene and
// the seed of its sensor noise.
struct ImageJob {
  std::string rel;
  Scene scene;
  uint64_t noise_seed = 0;
};

// Appends a job whose noise seed is the next number of `rng`.
void add_image(std::vector<ImageJob>& jobs, std::string rel, const Scene& scene, Rng& rng);

// Renders, PNG-encodes and writes every job on `threads` threads (0: as many
// as the machine has, at most 8), showing progress under `label`.
void render_images(Writer& w, const std::vector<ImageJob>& jobs, const std::string& label, int threads);

// The world's ground truth for analysis and tests (not part of any real
// dataset): scenes/<dataset>/<split>.json maps each image's path (relative to
// the output root) to its scene graph.
nlohmann::json scene_to_json(const Scene& scene);
Scene scene_from_json(const nlohmann::json& j);
void write_scenes(Writer& w, const std::string& dataset, const std::string& split, const std::vector<ImageJob>& jobs);

// The dataset writers get the options, the writer and their own Rng stream.
struct Context {
  const WorldOptions& options;
  Writer& writer;
  Rng stream(const std::string& name) const { return Rng(options.seed).fork(name); }
  int count(const std::string& key) const;
  // Renders the jobs and writes their scenes to scenes/<dataset>/<split>.json.
  void render(const std::vector<ImageJob>& jobs, const std::string& dataset, const std::string& split) const {
    render_images(writer, jobs, dataset + " " + split, options.threads);
    write_scenes(writer, dataset, split, jobs);
  }
};

// An image of a dataset together with the scene it shows.
struct SceneImage {
  int64_t id = 0;
  std::string file_name;  // the dataset's own file name (no folder)
  Scene scene;
};

}  // namespace smoes::world
