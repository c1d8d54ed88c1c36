// smoes: the command-line front end. Parsing and dispatch only; the work is
// in the library so it can be used without the CLI.
#include <spdlog/spdlog.h>

#include <iostream>

#include "cli/commands.h"
#include "core/error.h"
#include "core/log.h"
#include "core/runtime.h"

int main(int argc, char** argv) {
  CLI::App app{"smoes: build, train, analyse and serve Mixture-of-Experts vision-language models\n"
               "with soft modality-guided expert specialization (SMoES)."};
  app.require_subcommand(1);
  std::string log_level = "info";
  int threads = 0;
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")->capture_default_str();
  app.add_option("--threads", threads, "intra-op threads (default: SMOES_THREADS or all cores)");

  std::vector<smoes::cli::Command> commands = {
      smoes::cli::add_doctor(app),
      smoes::cli::add_bench(app),
      smoes::cli::add_world(app),
      smoes::cli::add_tokenizer(app),
      smoes::cli::add_train(app),
      smoes::cli::add_eval(app),
      smoes::cli::add_data(app),
      smoes::cli::add_analyze(app),
      smoes::cli::add_skip(app),
      smoes::cli::add_study(app),
  };

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }
  try {
    smoes::init_logging(log_level);
    smoes::init_runtime(threads);
    for (auto& c : commands)
      if (c.app->parsed()) c.run();
    return 0;
  } catch (const smoes::Error& e) {
    std::cerr << "smoes: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "smoes: unexpected error: " << e.what() << "\n";
    return 1;
  }
}
