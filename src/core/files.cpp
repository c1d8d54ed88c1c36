#include "core/files.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "core/error.h"

namespace smoes {
namespace {

std::string errno_text() { return std::strerror(errno); }

void write_all(int fd, std::string_view bytes, const std::string& path) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(path + ": write failed: " + errno_text());
    }
    done += static_cast<size_t>(n);
  }
}

// Fault injection for the crash-safety tests: with SMOES_FAULT_KILL_WRITING
// set, the process kills itself halfway through writing the first file whose
// path contains that text.
bool killed_while_writing(const std::string& path) {
  const char* text = std::getenv("SMOES_FAULT_KILL_WRITING");
  return text && *text && path.find(text) != std::string::npos;
}

void fsync_directory(const std::filesystem::path& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

std::string read_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw Error(path + ": is a folder, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open for reading: " + errno_text());
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) throw Error(path + ": read failed");
  return out.str();
}

void ensure_writable_dir(const std::string& dir, const std::string& what) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(dir + ": cannot create " + what + ": " + ec.message());
  if (::access(dir.c_str(), W_OK | X_OK) != 0) throw Error(dir + ": " + what + " is not writable: " + errno_text());
}

void write_file_atomic(const std::string& path, std::string_view bytes) {
  namespace fs = std::filesystem;
  fs::path target(path);
  if (target.has_parent_path()) ensure_writable_dir(target.parent_path().string(), "the folder of " + path);
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(tmp + ": cannot create: " + errno_text());
  try {
    if (killed_while_writing(path)) {  // as a kill mid-write leaves it: half a temp file
      write_all(fd, bytes.substr(0, bytes.size() / 2), tmp);
      ::raise(SIGKILL);
    }
    write_all(fd, bytes, tmp);
    if (::fsync(fd) != 0) throw Error(tmp + ": fsync failed: " + errno_text());
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  ::close(fd);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string why = errno_text();
    ::unlink(tmp.c_str());
    throw Error(path + ": rename from temp file failed: " + why);
  }
  fsync_directory(target.parent_path());
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_sha256(), nullptr) != 1)
    throw Error("sha256: OpenSSL EVP_Digest failed");
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(hex[digest[i] >> 4]);
    out.push_back(hex[digest[i] & 15]);
  }
  return out;
}

std::string sha256_file(const std::string& path) { return sha256_hex(read_file(path)); }

}  // namespace smoes
