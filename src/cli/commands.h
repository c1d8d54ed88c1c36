// The CLI's subcommands: one file per subcommand, each adding itself to the
// app and returning what to run when it is chosen. Commands report failure by
// throwing smoes::Error (exit 1); CLI11 parse errors exit 2.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <vector>

namespace smoes::cli {

struct Command {
  CLI::App* app;
  std::function<void()> run;
};

Command add_doctor(CLI::App& app);
Command add_bench(CLI::App& app);
Command add_world(CLI::App& app);
Command add_tokenizer(CLI::App& app);
Command add_train(CLI::App& app);
Command add_eval(CLI::App& app);
Command add_data(CLI::App& app);
Command add_analyze(CLI::App& app);
Command add_skip(CLI::App& app);
Command add_study(CLI::App& app);

}  // namespace smoes::cli
