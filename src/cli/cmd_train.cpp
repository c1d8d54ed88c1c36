// smoes train: train or resume a model from a config (+ --set overrides).
#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "core/error.h"
#include "core/runtime.h"
#include "core/files.h"
#include "dist/world.h"
#include "expert_parallel/install.h"
#include "train/run.h"

namespace smoes::cli {

Command add_train(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "Train a model from a config; resumes from <train.out_dir>/checkpoints");
  struct Options {
    std::string config;
    std::vector<std::string> sets;
    int64_t stop_after = 0;
    int nproc = 0;
    bool expert_parallel = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("--config", o->config, "JSON config (see configs/); defaults for missing fields");
  cmd->add_option("--set", o->sets, "override a field, e.g. --set train.steps=100 --set moe.top_k=1");
  cmd->add_option("--stop-after", o->stop_after, "stop after N steps without a final checkpoint (as if killed)")
      ->check(at_least(0));
  cmd->add_option("--nproc", o->nproc,
                  "data parallel over N local worker processes (Gloo on 127.0.0.1; train.batch_size is the global "
                  "batch). Under mpirun or torchrun-style RANK/WORLD_SIZE variables each process is one rank")
      ->check(CLI::Range(1, 256));
  cmd->add_flag("--expert-parallel", o->expert_parallel,
                "with several ranks: each MoE layer's experts on the ranks (SMoES: by bin), tokens sent to them with "
                "all-to-alls; writes <out_dir>/expert_parallel.json (bytes sent per token, per layer)");
  return {
      cmd, [o] {
        if (o->nproc > 1) {  // this process checks the config, then only launches and waits
          Config::load(o->config, o->sets);
          std::vector<std::string> argv = {std::filesystem::read_symlink("/proc/self/exe").string(), "train"};
          if (!o->config.empty()) argv.insert(argv.end(), {"--config", o->config});
          for (const auto& s : o->sets) argv.insert(argv.end(), {"--set", s});
          if (o->stop_after > 0) argv.insert(argv.end(), {"--stop-after", std::to_string(o->stop_after)});
          if (o->expert_parallel) argv.push_back("--expert-parallel");
          int code = dist::launch_local(o->nproc, argv, std::max(1, default_thread_count() / o->nproc));
          if (code != 0)
            throw Error("train: a worker of --nproc " + std::to_string(o->nproc) + " failed (exit " +
                        std::to_string(code) + "); the others were stopped");
          return;
        }
        auto cfg = Config::load(o->config, o->sets);
        train::GroupHook hook;
        if (o->expert_parallel && cfg.train.eval_every > 0)
          throw Error("--expert-parallel: set train.eval_every to 0 (the periodic eval runs on rank 0 alone, and its "
                      "experts live on every rank)");
        if (o->expert_parallel)
          hook = [out_dir = cfg.train.out_dir](model::MoEVLM& model, dist::Group& group) -> std::function<void()> {
            auto installed = expert_parallel::install(model, group);
            return [installed, &group, out_dir] {
              auto traffic = installed->traffic(group);
              if (group.rank() == 0) write_file_atomic(out_dir + "/expert_parallel.json", traffic.dump(2) + "\n");
            };
          };
        auto result = train::train_from_config(cfg, o->stop_after, hook);
        std::printf(
            "trained %lld steps%s; final loss %.4f; checkpoint %s\n", (long long)result.steps_done,
            result.resumed_from >= 0 ? (" (resumed at step " + std::to_string(result.resumed_from) + ")").c_str() : "",
            result.last_loss, result.last_checkpoint.empty() ? "(rank 0 writes them)" : result.last_checkpoint.c_str());
      }};
}

}  // namespace smoes::cli
