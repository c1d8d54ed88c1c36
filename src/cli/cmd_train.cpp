// smoes train: train or resume a model from a config (+ --set overrides).
#include <cstdio>

#include "cli/commands.h"
#include "train/run.h"

namespace smoes::cli {

Command add_train(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "Train a model from a config; resumes from <train.out_dir>/checkpoints");
  struct Options {
    std::string config;
    std::vector<std::string> sets;
    int64_t stop_after = 0;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("--config", o->config, "JSON config (see configs/); defaults for missing fields");
  cmd->add_option("--set", o->sets, "override a field, e.g. --set train.steps=100 --set moe.top_k=1");
  cmd->add_option("--stop-after", o->stop_after, "stop after N steps without a final checkpoint (as if killed)");
  return {cmd, [o] {
            auto cfg = Config::load(o->config, o->sets);
            auto result = train::train_from_config(cfg, o->stop_after);
            std::printf("trained %lld steps%s; final loss %.4f; checkpoint %s\n", (long long)result.steps_done,
                        result.resumed_from >= 0 ? (" (resumed at step " + std::to_string(result.resumed_from) + ")").c_str()
                                                 : "",
                        result.last_loss, result.last_checkpoint.c_str());
          }};
}

}  // namespace smoes::cli
