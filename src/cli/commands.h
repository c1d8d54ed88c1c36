// The CLI's subcommands: one file per subcommand, each adding itself to the
// app and returning what to run when it is chosen. Commands report failure by
// throwing smoes::Error (exit 1); CLI11 parse errors exit 2.
#pragma once
#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdlib>
#include <functional>
#include <sstream>
#include <vector>

namespace smoes::cli {

struct Command {
  CLI::App* app;
  std::function<void()> run;
};

// A number option's lower bound, with messages a user reads ("--batch: must
// be at least 1, got 0"; "expected a number, got 'many'"), where CLI11's own
// PositiveNumber prints a range up to 1.8e308.
inline CLI::Validator at_least(double min) {
  std::ostringstream bound;
  bound << min;
  return CLI::Validator(
      [min, b = bound.str()](std::string& text) -> std::string {
        char* end = nullptr;
        errno = 0;
        const double v = std::strtod(text.c_str(), &end);
        if (text.empty() || *end != '\0' || errno == ERANGE) return "expected a number, got '" + text + "'";
        if (!(v >= min)) return "must be at least " + b + ", got " + text;
        return "";
      },
      "NUMBER>=" + bound.str(), "at_least");
}

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
