#include "core/files.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"

TEST(Files, Sha256KnownVectors) {
  // FIPS 180-2 test vectors.
  EXPECT_EQ(smoes::sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(smoes::sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Files, AtomicWriteReplacesAndLeavesNoTemp) {
  auto dir = std::filesystem::temp_directory_path() / "smoes_files_test";
  std::filesystem::remove_all(dir);
  std::string path = (dir / "sub" / "a.txt").string();
  smoes::write_file_atomic(path, "first");
  smoes::write_file_atomic(path, std::string("second\0bytes", 12));
  EXPECT_EQ(smoes::read_file(path), std::string("second\0bytes", 12));
  int entries = 0;
  for (auto& e : std::filesystem::directory_iterator(dir / "sub")) (void)e, ++entries;
  EXPECT_EQ(entries, 1);  // no temp file left behind
  EXPECT_EQ(smoes::sha256_file(path), smoes::sha256_hex(std::string("second\0bytes", 12)));
}

TEST(Files, ReadMissingFileNamesIt) {
  try {
    smoes::read_file("/nonexistent/smoes.txt");
    FAIL();
  } catch (const smoes::Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/smoes.txt"), std::string::npos);
  }
}

TEST(Files, AtomicWriteIntoUnwritablePlaceThrows) {
  EXPECT_THROW(smoes::write_file_atomic("/proc/smoes_cannot_write/x", "y"), std::exception);
}
