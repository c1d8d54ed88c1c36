// Child processes: the study's runs and the data-parallel workers are the
// smoes executable started again with other arguments and environment.
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

namespace smoes {

// Starts argv[0] with `argv` and this process's environment, where each
// "NAME=value" of `env` replaces (or adds) NAME; stdout and stderr are
// appended to `log` ("" = this process's). Throws smoes::Error naming argv[0].
pid_t spawn_process(const std::vector<std::string>& argv, const std::vector<std::string>& env = {},
                    const std::string& log = "");

// The exit code of a finished child: its status, or 128 + the signal that killed it.
int exit_code(int wait_status);

// Waits for `pid`; its exit_code, or -1 when it cannot be waited for.
int wait_process(pid_t pid);

}  // namespace smoes
