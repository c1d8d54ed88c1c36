// Shared by the train and analysis tests: a small model config and a tiny
// world with a trained tokenizer.
#pragma once
#include <filesystem>
#include <fstream>
#include <string>

#include "core/config.h"
#include "data/tokenizer.h"
#include "tasks/tasks.h"
#include "world/generate.h"

namespace tiny_run {

inline smoes::Config small_config(const std::string& root, const std::string& out_dir) {
  smoes::Config c;
  c.model.d_model = 32;
  c.model.n_layers = 2;
  c.model.n_heads = 4;
  c.model.max_seq_len = 128;
  c.model.dense_ffn_hidden = 24;
  c.model.image_size = 16;
  c.model.patch_size = 8;
  c.model.vit_layers = 1;
  c.model.vit_width = 16;
  c.model.vit_heads = 2;
  c.model.location_bins = 8;
  c.moe.num_experts = 4;
  c.moe.top_k = 2;
  c.moe.ffn_hidden = 24;
  c.train.steps = 8;
  c.train.warmup_steps = 2;
  c.train.batch_size = 3;
  c.train.ckpt_every = 4;
  c.train.log_every = 2;
  c.train.out_dir = out_dir;
  c.data.root = root;
  c.data.mixture = {{"coco_captions", 1.0}, {"cc", 0.5}, {"corpus", 0.5}};
  c.data.image_cache = "";
  return c;
}

// Writes the tiny world and its tokenizer to <temp>/<name> (each test file
// its own name).
inline std::string make_world(const std::string& name) {
  namespace fs = std::filesystem;
  auto dir = (fs::temp_directory_path() / name).string();
  fs::remove_all(dir);
  smoes::world::generate(smoes::world::WorldOptions::for_preset("tiny", 5), dir);
  auto text = dir + "/text.txt";
  std::ofstream(text) << smoes::tasks::training_text(dir);
  smoes::data::Tokenizer::train({text}, dir + "/tokenizer", 300, 8);
  return dir;
}

}  // namespace tiny_run
