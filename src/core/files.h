// File helpers every writer uses: atomic writes (temp + fsync + rename) and
// whole-file reads with errors that name the path.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace smoes {

// Reads a whole file; throws smoes::Error naming the path when it can't.
std::string read_file(const std::string& path);

// Writes `bytes` to `path` atomically: a reader sees the old file or the new
// one, never a partial write, even if the process is killed mid-way.
void write_file_atomic(const std::string& path, std::string_view bytes);

// Creates `dir` and its parents and checks that files can be made in it;
// otherwise throws naming `what` (e.g. "train.out_dir"), the path and why.
// Runs call it first, so a bad output path fails before any work is done.
void ensure_writable_dir(const std::string& dir, const std::string& what);

// Lowercase hex SHA-256 (OpenSSL).
std::string sha256_hex(std::string_view bytes);
std::string sha256_file(const std::string& path);

}  // namespace smoes
