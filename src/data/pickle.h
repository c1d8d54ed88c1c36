// A safe reader and writer for the plain-data subset of Python's pickle
// format: what RefCOCO's refs(unc).p uses (Python 2 cPickle, protocol 2) and
// what Python writes for plain data with protocols 0-5. Values map to JSON.
//
// Reader (unpickle): accepts every opcode of protocols 0-5 that only builds
// plain data —
//   PROTO, FRAME, STOP, MARK, POP, POP_MARK, DUP;
//   containers: EMPTY_DICT, DICT, SETITEM, SETITEMS, EMPTY_LIST, LIST, APPEND,
//     APPENDS, EMPTY_TUPLE, TUPLE, TUPLE1-3, EMPTY_SET, ADDITEMS, FROZENSET;
//   scalars: NONE, NEWTRUE, NEWFALSE, INT (I01/I00 are True/False), BININT,
//     BININT1, BININT2, LONG, LONG1, LONG4, FLOAT, BINFLOAT, STRING,
//     BINSTRING, SHORT_BINSTRING, UNICODE, BINUNICODE, SHORT_BINUNICODE,
//     BINUNICODE8, BINBYTES, SHORT_BINBYTES, BINBYTES8, BYTEARRAY8;
//   memo: PUT, BINPUT, LONG_BINPUT, MEMOIZE, GET, BINGET, LONG_BINGET.
// The opcodes that import, call or build objects (GLOBAL, STACK_GLOBAL,
// REDUCE, BUILD, INST, OBJ, NEWOBJ, NEWOBJ_EX, EXT1/2/4, PERSID, BINPERSID)
// and out-of-band buffers (NEXT_BUFFER, READONLY_BUFFER) throw smoes::Error
// "<name>: byte offset N: opcode 0x63 (GLOBAL) is not allowed: it imports a
// Python object ... nothing was executed"; unknown bytes throw too. Nothing is
// ever executed or imported. Python 3 itself writes sets below protocol 4,
// bytes below 3 and bytearray below 5 as GLOBAL + REDUCE, so those are refused.
//
// Mapping to JSON:
//   dict -> object (keys sorted, a repeated key keeps its last value);
//   list and tuple -> array;
//   set and frozenset -> array, sorted when every element is a scalar (Python
//     sets have no order); sets of tuples keep the file's order;
//   str / unicode -> string: BINUNICODE and its short/8-byte forms must be
//     valid UTF-8; byte strings (Python 2 STRING, BINSTRING, SHORT_BINSTRING;
//     Python 3 bytes and bytearray) are kept when they are valid UTF-8 and
//     read as Latin-1 otherwise;
//   int / long -> integer (int64; uint64 above INT64_MAX; wider throws);
//   float -> float; True/False -> bool; None -> null.
//   Dict keys must be scalars: str as is, int as decimal ("3"), float as
//   Python's repr ("1.5", "inf"), True/False as "True"/"False", None as
//   "None". Tuple or other container keys throw.
// Memo references (PUT/MEMOIZE, GET) and DUP keep Python's sharing semantics:
// a GET of a list sees everything appended to it, even after the PUT.
//
// Bounds (all throw smoes::Error naming the file and byte offset): truncated
// input, missing STOP, bytes after STOP, stack underflow, MARK misuse, values
// left on the stack at STOP, GET of an unknown memo index, declared lengths
// (FRAME's too) beyond the end of the input (nothing is allocated from a
// declared length), more than kPickleMaxDepth open MARKs or nested
// containers, recursive containers, and shared references that expand to
// more than ~64x the input.
// No recursion anywhere: the depth of the C++ stack does not depend on input.
//
// Writer (pickle): protocol 2, as Python 3 writes it without memo:
// PROTO 2, EMPTY_DICT + MARK..SETITEMS, EMPTY_LIST + MARK..APPENDS (batches of
// 1000; SETITEM / APPEND for a batch of one), BINUNICODE, BININT1 / BININT2 /
// BININT / LONG1, BINFLOAT, NEWTRUE / NEWFALSE, NONE, STOP. Python's
// pickle.load reads the output; unpickle(pickle(v)) == v for every JSON value
// nested at most kPickleMaxDepth deep with valid UTF-8 strings (binary JSON
// values, invalid UTF-8 and deeper nesting throw smoes::Error).
#pragma once
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace smoes::data {

inline constexpr size_t kPickleMaxDepth = 1000;

// `name` (usually the file path) prefixes every error message.
nlohmann::json unpickle(std::string_view bytes, const std::string& name);
// read_file(path) + unpickle(bytes, path).
nlohmann::json unpickle_file(const std::string& path);

std::string pickle(const nlohmann::json& value);

}  // namespace smoes::data
