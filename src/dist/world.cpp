#include "dist/world.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>

#include "core/error.h"
#include "core/process.h"

namespace smoes::dist {
namespace {

int number(const char* name, const char* value, int lo, int hi) {
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(value, &end, 10);
  if (errno != 0 || end == value || *end != '\0' || v < lo || v > hi)
    throw Error(std::string("environment variable ") + name + "='" + value + "': expected an integer in [" +
                std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return int(v);
}

}  // namespace

WorldInfo world_from_env(const std::function<const char*(const char*)>& getenv_fn) {
  auto get = [&](const char* name) -> const char* { return getenv_fn ? getenv_fn(name) : std::getenv(name); };
  WorldInfo w;
  const char *rank = get("RANK"), *size = get("WORLD_SIZE");
  if (rank || size) {
    if (!rank || !size)
      throw Error(std::string("environment: ") + (rank ? "WORLD_SIZE" : "RANK") +
                  " is missing (torchrun-style launch sets RANK and WORLD_SIZE together)");
    w.source = "torchrun";
  } else if ((rank = get("OMPI_COMM_WORLD_RANK")) && (size = get("OMPI_COMM_WORLD_SIZE"))) {
    w.source = "mpirun";
  } else {
    w.source = "single";
    return w;
  }
  w.size = number(w.source == "torchrun" ? "WORLD_SIZE" : "OMPI_COMM_WORLD_SIZE", size, 1, 1 << 16);
  w.rank = number(w.source == "torchrun" ? "RANK" : "OMPI_COMM_WORLD_RANK", rank, 0, w.size - 1);
  if (const char* addr = get("MASTER_ADDR"); addr && *addr) w.addr = addr;
  if (const char* port = get("MASTER_PORT")) w.port = number("MASTER_PORT", port, 1, 65535);
  return w;
}

int free_local_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw Error(std::string("dist: socket: ") + std::strerror(errno));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    int e = errno;
    close(fd);
    throw Error(std::string("dist: cannot find a free port on 127.0.0.1: ") + std::strerror(e));
  }
  close(fd);
  return ntohs(a.sin_port);
}

int launch_local(int nproc, const std::vector<std::string>& argv, int threads_per_worker) {
  if (nproc < 1) throw Error("--nproc: expected at least 1, got " + std::to_string(nproc));
  const int port = free_local_port();
  std::map<pid_t, int> workers;  // pid -> rank
  for (int rank = 0; rank < nproc; ++rank) {
    pid_t pid = 0;
    try {
      pid = spawn_process(
          argv, {"RANK=" + std::to_string(rank), "LOCAL_RANK=" + std::to_string(rank),
                 "WORLD_SIZE=" + std::to_string(nproc), "MASTER_ADDR=127.0.0.1", "MASTER_PORT=" + std::to_string(port),
                 "SMOES_THREADS=" + std::to_string(threads_per_worker)});
    } catch (const Error& e) {
      for (auto& [p, r] : workers) kill(p, SIGTERM);
      throw Error("dist: worker " + std::to_string(rank) + ": " + e.what());
    }
    workers[pid] = rank;
  }
  int first_failure = 0;
  while (!workers.empty()) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;
    }
    auto it = workers.find(pid);
    if (it == workers.end()) continue;
    workers.erase(it);
    const int code = exit_code(status);
    if (code != 0 && first_failure == 0) {
      first_failure = code;
      for (auto& [p, r] : workers) kill(p, SIGTERM);  // no worker waits for a dead peer
    }
  }
  return first_failure;
}

}  // namespace smoes::dist
