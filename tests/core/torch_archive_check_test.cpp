// The archive check that runs before libtorch reads a checkpoint's payload
// (core/torch_archive_check.h): pickles with hand-written bytes, and a real
// libtorch archive as written, then with one declared size changed.
#include "core/torch_archive_check.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <sstream>

#include "../error_of.h"
#include "../fuzz_regression.h"  // EXPECT_HAS

namespace {

using smoes::check_pickle_lengths;
using smoes::check_torch_archive;

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(char(c));
  return s;
}

std::string pickle_error(const std::string& p) {
  return error_of([&] { check_pickle_lengths(p, "p.pkl"); });
}

// What torch::serialize writes: a zip with data.pkl, constants.pkl, the
// TorchScript code (deflated) and one stored record per tensor.
std::string real_archive() {
  torch::serialize::OutputArchive ar;
  ar.write("w", torch::arange(6, torch::kFloat).reshape({2, 3}));
  ar.write("name_of_a_buffer", torch::ones({4}), /*is_buffer=*/true);
  std::ostringstream out;
  ar.save_to(out);
  return out.str();
}

// The offset of the central directory record of `name` (signature PK\1\2).
size_t directory_record(const std::string& zip, const std::string& name) {
  for (size_t at = zip.find("PK\x01\x02"); at != std::string::npos; at = zip.find("PK\x01\x02", at + 1)) {
    size_t len = uint8_t(zip[at + 28]) | uint8_t(zip[at + 29]) << 8;
    if (zip.compare(at + 46, len, name) == 0) return at;
  }
  ADD_FAILURE() << "no record " << name;
  return 0;
}

void put_le32(std::string& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = char(v >> (8 * i));
}

std::string record_with_suffix(const std::string& zip, const std::string& suffix) {
  for (size_t at = zip.find("PK\x01\x02"); at != std::string::npos; at = zip.find("PK\x01\x02", at + 1)) {
    size_t len = uint8_t(zip[at + 28]) | uint8_t(zip[at + 29]) << 8;
    std::string name = zip.substr(at + 46, len);
    if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      return name;
  }
  ADD_FAILURE() << "no record ending " << suffix;
  return "";
}

}  // namespace

TEST(PickleLengths, WellFormedPicklesPass) {
  // PROTO 2, EMPTY_DICT, BINUNICODE "ab", SHORT_BINUNICODE "c", SETITEM, STOP
  EXPECT_NO_THROW(check_pickle_lengths(bytes({0x80, 2, '}', 'X', 2, 0, 0, 0, 'a', 'b', 0x8c, 1, 'c', 's', '.'}), "p"));
  // GLOBAL's two lines, BININT, BINPERSID, FRAME covering the rest, and bytes after STOP (never read)
  EXPECT_NO_THROW(check_pickle_lengths("c__torch__\nM\nJ\1\2\3\4Q.junk", "p"));
  EXPECT_NO_THROW(check_pickle_lengths(bytes({0x80, 4, 0x95, 3, 0, 0, 0, 0, 0, 0, 0, 'N', 'N', '.'}), "p"));
}

TEST(PickleLengths, DeclaredLengthsPastTheEndAreRefusedWithTheirOffset) {
  // BINUNICODE8 asking for 2^40 bytes at byte 2
  EXPECT_EQ(pickle_error(bytes({0x80, 2, 0x8d, 0, 0, 0, 0, 0, 1, 0, 0, 'a', '.'})),
            "p.pkl: byte 2: opcode 0x8d declares 1099511627776 bytes; the pickle has 2 left");
  // BINBYTES of 5 with 4 left: one byte short is enough
  EXPECT_EQ(pickle_error(bytes({'B', 5, 0, 0, 0, 'a', 'b', 'c', '.'})),
            "p.pkl: byte 0: opcode 0x42 declares 5 bytes; the pickle has 4 left");
  // SHORT_BINSTRING at the very end, LONG4 negative (read unsigned)
  EXPECT_EQ(pickle_error(bytes({'N', 'U'})), "p.pkl: byte 1: opcode 0x55: the pickle ends inside its argument");
  EXPECT_HAS(pickle_error(bytes({0x8b, 0xff, 0xff, 0xff, 0xff, '.'})), "declares 4294967295 bytes");
  // FRAME longer than the pickle
  EXPECT_HAS(pickle_error(bytes({0x80, 4, 0x95, 9, 0, 0, 0, 0, 0, 0, 0, 'N', '.'})),
             "p.pkl: byte 2: opcode 0x95 declares 9 bytes; the pickle has 2 left");
}

TEST(PickleLengths, MemoIndicesAsLargeAsThePickleAreRefused) {
  // EMPTY_LIST, LONG_BINPUT 9 in a 7-byte pickle; BINPUT below the length passes, at it does not
  EXPECT_EQ(pickle_error(bytes({']', 'r', 9, 0, 0, 0, '.'})),
            "p.pkl: byte 1: opcode 0x72 puts memo entry 9; a pickle of 7 bytes has fewer entries");
  EXPECT_NO_THROW(check_pickle_lengths(bytes({']', 'q', 3, '0', ']', 'q', 4, '.'}), "p"));
  EXPECT_HAS(pickle_error(bytes({']', 'q', 4, '.'})), "byte 1: opcode 0x71 puts memo entry 4; a pickle of 4 bytes");
  // PUT's index is text
  EXPECT_NO_THROW(check_pickle_lengths("]p0\n.", "p"));
  EXPECT_HAS(pickle_error("]p123456789012\n."), "byte 1: opcode 0x70 puts memo entry 123456789012");
}

TEST(PickleLengths, UnknownOpcodesMissingNewlinesAndNoStopAreRefused) {
  EXPECT_EQ(pickle_error(bytes({'N', 0xff, '.'})), "p.pkl: byte 1: opcode 0xff is not a pickle opcode");
  EXPECT_EQ(pickle_error("c__torch__\nno_newline"),
            "p.pkl: byte 0: opcode 0x63: its text argument has no newline");
  EXPECT_EQ(pickle_error(bytes({0x80, 2, 'N'})), "p.pkl: the pickle has no STOP opcode");
  EXPECT_EQ(pickle_error(""), "p.pkl: the pickle has no STOP opcode");
}

TEST(TorchArchiveCheck, WhatLibtorchWritesPasses) { EXPECT_NO_THROW(check_torch_archive(real_archive(), "a.pt")); }

TEST(TorchArchiveCheck, ACompressedRecordDeclaringMoreThanDeflateGivesIsRefused) {
  std::string zip = real_archive();
  const std::string code = record_with_suffix(zip, "__torch__.py");
  size_t at = directory_record(zip, code);
  zip[at + 10] = 8;                    // deflate (libtorch 1.13 stores every record; newer ones deflate code)
  put_le32(zip, at + 24, 0xF0000000);  // uncompressed size
  EXPECT_HAS(error_of([&] { check_torch_archive(zip, "a.pt"); }),
             "a.pt: torch archive: " + code + ": declares 4026531840 bytes from ");
}

TEST(TorchArchiveCheck, ADeflatedRecordOverItsLimitIsRefusedWhateverItsRatio) {
  torch::serialize::OutputArchive ar;
  ar.write("big", torch::zeros({20000}));  // one record of 80,000 bytes: archive/data/0
  std::ostringstream out;
  ar.save_to(out);
  std::string zip = out.str();
  size_t at = directory_record(zip, record_with_suffix(zip, "/data/0"));
  zip[at + 10] = 8;                          // as if deflated: 80,000 x 1032 allows 82 MB
  put_le32(zip, at + 24, (64u << 20) + 1);  // declares 64 MiB + 1
  EXPECT_HAS(error_of([&] { check_torch_archive(zip, "a.pt"); }),
             "/data/0: is deflated and declares 67108865 bytes, over the limit of 67108864 for a compressed record");
  put_le32(zip, at + 24, 64u << 20);  // within both limits: passes (inflating it is libtorch's job)
  EXPECT_NO_THROW(check_torch_archive(zip, "a.pt"));
}

TEST(TorchArchiveCheck, AStoredRecordWhoseSizesDifferOrLieOutsideIsRefused) {
  const std::string zip = real_archive();
  const std::string pkl = record_with_suffix(zip, "data.pkl");
  std::string sizes = zip, outside = zip;
  put_le32(sizes, directory_record(sizes, pkl) + 24, 1u << 30);
  EXPECT_HAS(error_of([&] { check_torch_archive(sizes, "a.pt"); }),
             "a.pt: torch archive: " + pkl + ": is stored but declares 1073741824 bytes for its ");
  size_t at = directory_record(outside, pkl);
  put_le32(outside, at + 20, 1u << 30);
  put_le32(outside, at + 24, 1u << 30);
  EXPECT_HAS(error_of([&] { check_torch_archive(outside, "a.pt"); }),
             pkl + ": its 1073741824 bytes lie outside the archive");
}

TEST(TorchArchiveCheck, NotAZipOrADamagedDirectoryIsRefused) {
  EXPECT_EQ(error_of([&] { check_torch_archive("short", "a.pt"); }),
            "a.pt: torch archive: too short for a zip (5 bytes)");
  EXPECT_EQ(error_of([&] { check_torch_archive(std::string(100, 'x'), "a.pt"); }),
            "a.pt: torch archive: no end-of-central-directory record (not a zip)");
  std::string zip = real_archive();
  zip[directory_record(zip, record_with_suffix(zip, "data.pkl"))] = 'Q';
  EXPECT_HAS(error_of([&] { check_torch_archive(zip, "a.pt"); }), "a.pt: torch archive: central directory record ");
}
