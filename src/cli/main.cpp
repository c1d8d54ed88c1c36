// smoes: the command-line front end. Parsing and dispatch only; the work is
// in the library so it can be used without the CLI.
#include <spdlog/spdlog.h>

#include <csignal>
#include <iostream>

#include "cli/commands.h"
#include "core/error.h"
#include "core/log.h"
#include "core/runtime.h"

namespace {

// A parse error as one line naming the command it is about, e.g.
// "smoes: usage error: smoes analyze routing: --ckpt is required (see smoes analyze routing --help)".
std::string usage_error(CLI::App& app, const CLI::ParseError& e, int argc, char** argv) {
  std::string path = "smoes", what = e.what();
  CLI::App* at = &app;
  int last_word = 0;  // argv index of the deepest command given
  for (auto given = at->get_subcommands(); !given.empty(); given = at->get_subcommands()) {
    at = given.front();
    path += " " + at->get_name();
    for (int i = last_word + 1; i < argc; ++i)
      if (argv[i] == at->get_name()) {
        last_word = i;
        break;
      }
  }
  auto commands = at->get_subcommands([](CLI::App*) { return true; });
  if (!commands.empty() && what.find("subcommand") != std::string::npos) {  // a command was needed here
    std::string names;
    for (auto* c : commands) names += (names.empty() ? "" : ", ") + c->get_name();
    std::string stray;
    for (int i = last_word + 1; i < argc && stray.empty(); ++i)
      if (argv[i][0] != '-' && (i == 1 || std::string(argv[i - 1]).rfind("--", 0) != 0)) stray = argv[i];
    what = (stray.empty() ? "give a command" : "unknown command '" + stray + "'") + " (commands: " + names + ")";
  }
  return "smoes: usage error: " + path + ": " + what + " (see " + path + " --help)";
}

}  // namespace

int main(int argc, char** argv) {
  // Past a file-size limit (ulimit -f) a write then fails with EFBIG, and
  // smoes reports it naming the file, instead of dying by SIGXFSZ mid-run.
  std::signal(SIGXFSZ, SIG_IGN);
  CLI::App app{"smoes: build, train, analyse and serve Mixture-of-Experts vision-language models\n"
               "with soft modality-guided expert specialization (SMoES)."};
  app.require_subcommand(1);
  std::string log_level = "info";
  int threads = 0;
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")->capture_default_str();
  app.add_option("--threads", threads, "intra-op threads (default: SMOES_THREADS or all cores)")
      ->check(CLI::Range(0, 1024));

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
    std::cerr << usage_error(app, e, argc, argv) << "\n";
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
