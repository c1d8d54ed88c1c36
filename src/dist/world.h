// Which rank this process is, of how many, and where rank 0's rendezvous
// store listens: from torchrun-style variables (RANK, WORLD_SIZE,
// MASTER_ADDR, MASTER_PORT), from Open MPI's mpirun (OMPI_COMM_WORLD_RANK,
// OMPI_COMM_WORLD_SIZE; MASTER_ADDR/PORT default to 127.0.0.1:29500), or
// set by `--nproc N`, which starts N local workers with those variables.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace smoes::dist {

struct WorldInfo {
  int rank = 0, size = 1;
  std::string addr = "127.0.0.1";
  int port = 29500;
  std::string source;  // "torchrun", "mpirun" or "single"
};

// The world the environment describes (`getenv` by default); a single
// process when none does. Throws smoes::Error naming the variable for a bad
// or inconsistent value (a rank outside [0, size), a non-number, a port
// outside 1..65535).
WorldInfo world_from_env(const std::function<const char*(const char*)>& getenv = nullptr);

// A TCP port on 127.0.0.1 that is free now (bound to port 0 and read back).
int free_local_port();

// Starts `nproc` copies of `argv` with RANK, WORLD_SIZE, MASTER_ADDR=127.0.0.1,
// MASTER_PORT (a free port) and LOCAL_RANK set, and threads split between them
// (SMOES_THREADS). Waits for all; when one fails, the others are stopped
// (SIGTERM) so none waits for a dead peer. Returns the first failing exit
// code, or 0.
int launch_local(int nproc, const std::vector<std::string>& argv, int threads_per_worker);

}  // namespace smoes::dist
