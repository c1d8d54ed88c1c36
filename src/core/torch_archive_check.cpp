#include "core/torch_archive_check.h"

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "core/error.h"

namespace smoes {

namespace {

// Little-endian unsigned of `width` bytes at `at`; the caller checked the bounds.
uint64_t le(std::string_view b, size_t at, size_t width) {
  uint64_t v = 0;
  for (size_t i = width; i-- > 0;) v = (v << 8) | uint8_t(b[at + i]);
  return v;
}

std::string hex(uint8_t op) {
  char s[8];
  std::snprintf(s, sizeof s, "0x%02x", op);
  return s;
}

// How an opcode's argument is laid out: `fixed` bytes; or a little-endian
// length of `width` bytes, then that many bytes; or `lines` newline-ended lines.
struct Arg {
  size_t fixed = 0, width = 0, lines = 0;
};

// Every opcode of pickle protocols 0-5 (CPython Lib/pickletools.py).
bool opcode_arg(uint8_t op, Arg& a) {
  switch (op) {
    case '(': case '.': case '0': case '1': case '2': case 'N': case 'R': case 'a': case 'b': case 'd':
    case '}': case 'e': case 'l': case ']': case 'o': case 's': case 't': case ')': case 'u': case 'Q':
    case 0x81: case 0x85: case 0x86: case 0x87: case 0x88: case 0x89: case 0x8f: case 0x90: case 0x91:
    case 0x92: case 0x93: case 0x94: case 0x97: case 0x98:
      a = {}; return true;
    case 'K': case 'h': case 'q': case 0x80: case 0x82: a = {1, 0, 0}; return true;
    case 'M': case 0x83: a = {2, 0, 0}; return true;
    case 'J': case 'j': case 'r': case 0x84: a = {4, 0, 0}; return true;
    case 'G': case 0x95: a = {8, 0, 0}; return true;  // FRAME's 8 bytes are its length: checked below
    case 'U': case 'C': case 0x8a: case 0x8c: a = {0, 1, 0}; return true;
    case 'T': case 'X': case 'B': case 0x8b: a = {0, 4, 0}; return true;
    case 0x8d: case 0x8e: case 0x96: a = {0, 8, 0}; return true;
    case 'I': case 'L': case 'S': case 'V': case 'F': case 'P': case 'g': case 'p': a = {0, 0, 1}; return true;
    case 'c': case 'i': a = {0, 0, 2}; return true;
    default: return false;
  }
}

[[noreturn]] void fail(const std::string& name, const std::string& what) {
  throw Error(name + ": torch archive: " + what);
}

struct Directory {
  uint64_t offset = 0, size = 0, count = 0;
};

// The zip64 end-of-central-directory record, found through its locator (the
// 20 bytes right before the classic record).
Directory zip64_directory(std::string_view z, size_t eocd, const std::string& name) {
  if (eocd < 20 || le(z, eocd - 20, 4) != 0x07064b50) fail(name, "zip64 sizes without a zip64 locator");
  uint64_t at = le(z, eocd - 20 + 8, 8);
  if (at > z.size() || z.size() - at < 56 || le(z, at, 4) != 0x06064b50)
    fail(name, "the zip64 end-of-central-directory record is missing");
  return {le(z, at + 48, 8), le(z, at + 40, 8), le(z, at + 32, 8)};
}

Directory find_directory(std::string_view z, const std::string& name) {
  constexpr size_t kEocd = 22;  // then a comment of at most 65535 bytes
  if (z.size() < kEocd) fail(name, "too short for a zip (" + std::to_string(z.size()) + " bytes)");
  size_t lowest = z.size() > kEocd + 65535 ? z.size() - kEocd - 65535 : 0;
  for (size_t at = z.size() - kEocd + 1; at-- > lowest;) {
    if (le(z, at, 4) != 0x06054b50) continue;
    Directory d{le(z, at + 16, 4), le(z, at + 12, 4), le(z, at + 10, 2)};
    if (d.offset == 0xFFFFFFFF || d.size == 0xFFFFFFFF || d.count == 0xFFFF) d = zip64_directory(z, at, name);
    if (d.offset > z.size() || d.size > z.size() - d.offset) fail(name, "the central directory lies outside the archive");
    return d;
  }
  fail(name, "no end-of-central-directory record (not a zip)");
}

struct Record {
  std::string name;
  uint64_t method = 0, comp = 0, uncomp = 0, local_offset = 0;
};

// Sizes and offset that did not fit 32 bits are in the zip64 extra field, in this order.
void read_zip64_extra(std::string_view extra, Record& r) {
  for (size_t at = 0; extra.size() - at >= 4;) {
    size_t id = le(extra, at, 2), len = le(extra, at + 2, 2);
    if (len > extra.size() - at - 4) return;
    if (id == 0x0001) {
      size_t p = at + 4, end = p + len;
      for (uint64_t* field : {&r.uncomp, &r.comp, &r.local_offset}) {
        if (*field != 0xFFFFFFFF || end - p < 8) continue;
        *field = le(extra, p, 8);
        p += 8;
      }
    }
    at += 4 + len;
  }
}

std::vector<Record> read_directory(std::string_view z, const Directory& d, const std::string& name) {
  std::vector<Record> records;
  size_t at = d.offset, end = d.offset + d.size;
  for (uint64_t i = 0; i < d.count; ++i) {  // each record takes >= 46 bytes: the loop is bounded by the file
    if (end - at < 46 || le(z, at, 4) != 0x02014b50)
      fail(name, "central directory record " + std::to_string(i) + " is damaged");
    size_t name_len = le(z, at + 28, 2), extra_len = le(z, at + 30, 2), comment_len = le(z, at + 32, 2);
    if (end - at - 46 < name_len + extra_len + comment_len)
      fail(name, "central directory record " + std::to_string(i) + " runs past the directory");
    Record r{std::string(z.substr(at + 46, name_len)), le(z, at + 10, 2), le(z, at + 20, 4), le(z, at + 24, 4),
             le(z, at + 42, 4)};
    read_zip64_extra(z.substr(at + 46 + name_len, extra_len), r);
    records.push_back(std::move(r));
    at += 46 + name_len + extra_len + comment_len;
  }
  return records;
}

// The record's bytes as the zip holds them, after checking every size it declares.
std::string_view record_bytes(std::string_view z, const Record& r, const std::string& name) {
  const std::string where = r.name + ": ";
  if (r.local_offset > z.size() || z.size() - r.local_offset < 30 || le(z, r.local_offset, 4) != 0x04034b50)
    fail(name, where + "its local header is missing");
  uint64_t data_at = r.local_offset + 30 + le(z, r.local_offset + 26, 2) + le(z, r.local_offset + 28, 2);
  if (data_at > z.size() || r.comp > z.size() - data_at)
    fail(name, where + "its " + std::to_string(r.comp) + " bytes lie outside the archive");
  if (r.uncomp > kTorchArchiveMaxRecordBytes)
    fail(name, where + "declares " + std::to_string(r.uncomp) + " bytes, over the limit of " +
                   std::to_string(kTorchArchiveMaxRecordBytes));
  if (r.method == 0 && r.comp != r.uncomp)
    fail(name, where + "is stored but declares " + std::to_string(r.uncomp) + " bytes for its " +
                   std::to_string(r.comp));
  if (r.method == 8 && r.uncomp > r.comp * 1032 + 1024)
    fail(name, where + "declares " + std::to_string(r.uncomp) + " bytes from " + std::to_string(r.comp) +
                   " compressed: more than deflate can expand to (1032:1)");
  if (r.method == 8 && r.uncomp > kTorchArchiveMaxDeflatedBytes)
    fail(name, where + "is deflated and declares " + std::to_string(r.uncomp) + " bytes, over the limit of " +
                   std::to_string(kTorchArchiveMaxDeflatedBytes) + " for a compressed record");
  if (r.method != 0 && r.method != 8)
    fail(name, where + "compression method " + std::to_string(r.method) + " (libtorch reads stored and deflate)");
  return z.substr(data_at, r.comp);
}

bool is_pickle(const std::string& record) {
  auto ends = [&](const std::string& s) {
    return record.size() >= s.size() && record.compare(record.size() - s.size(), s.size(), s) == 0;
  };
  return ends(".pkl") || ends(".debug_pkl");
}

// libtorch's unpickler grows its memo table to the index a PUT names, so a
// LONG_BINPUT of 677,735,023 asked for 10.8 GB (a fuzz finding). A pickler
// numbers its memo entries from 0 and each PUT takes at least two bytes, so
// an index as large as the pickle itself never comes from one.
void check_memo_index(uint64_t index, size_t pickle_bytes, const std::string& here) {
  if (index >= pickle_bytes)
    throw Error(here + " puts memo entry " + std::to_string(index) + "; a pickle of " +
                std::to_string(pickle_bytes) + " bytes has fewer entries");
}

}  // namespace

void check_pickle_lengths(std::string_view p, const std::string& where) {
  for (size_t at = 0; at < p.size();) {
    const size_t op_at = at;
    const uint8_t op = p[at++];
    const std::string here = where + ": byte " + std::to_string(op_at) + ": opcode " + hex(op);
    Arg a;
    if (!opcode_arg(op, a)) throw Error(here + " is not a pickle opcode");
    if (op == '.') return;  // STOP: nothing after it is read
    if (a.lines) {
      const size_t text_at = at;
      for (size_t i = 0; i < a.lines; ++i) {
        size_t nl = p.find('\n', at);
        if (nl == std::string_view::npos) throw Error(here + ": its text argument has no newline");
        at = nl + 1;
      }
      if (op == 'p') {  // PUT's index is decimal text
        const std::string index(p.substr(text_at, at - text_at));
        check_memo_index(std::strtoull(index.c_str(), nullptr, 10), p.size(), here);
      }
      continue;
    }
    size_t head = a.width ? a.width : a.fixed;
    if (p.size() - at < head) throw Error(here + ": the pickle ends inside its argument");
    if (op == 'q' || op == 'r') check_memo_index(le(p, at, head), p.size(), here);
    uint64_t declared = a.width ? le(p, at, a.width) : (op == 0x95 ? le(p, at, 8) : 0);
    at += head;
    if (declared > p.size() - at)
      throw Error(here + " declares " + std::to_string(declared) + " bytes; the pickle has " +
                  std::to_string(p.size() - at) + " left");
    if (a.width) at += declared;  // FRAME's bytes are opcodes: walked, not skipped
  }
  throw Error(where + ": the pickle has no STOP opcode");
}

void check_torch_archive(std::string_view z, const std::string& name) {
  for (const Record& r : read_directory(z, find_directory(z, name), name)) {
    std::string_view bytes = record_bytes(z, r, name);
    if (!is_pickle(r.name)) continue;
    if (r.method != 0) fail(name, r.name + ": a compressed pickle (libtorch writes them stored)");
    check_pickle_lengths(bytes, name + ": torch archive: " + r.name);
  }
}

}  // namespace smoes
