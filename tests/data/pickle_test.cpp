#include "data/pickle.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/files.h"

using namespace smoes;
using nlohmann::json;

namespace {

std::string pickle_fixture(const std::string& name) {
  return std::string(SMOES_FIXTURES_DIR) + "/data/pickle/" + name;
}

// The fixtures of tests/fixtures/data/pickle/make_fixtures.py that have a .json twin.
const std::vector<std::string> kValidFixtures = {
    "py3_proto2_all", "py3_proto0_all",  "py3_proto2_memo", "py3_proto0_memo", "py3_proto2_scalar",
    "py2_proto2_all", "py2_proto0_all",  "py2_proto1_all",  "py2_proto2_refs",
};

// refs_proto0.p .. refs_proto5.p of tests/fixtures/data/pickle/make_pickles.py.
std::string refs_fixture(int protocol) { return pickle_fixture("refs_proto" + std::to_string(protocol) + ".p"); }

std::string unpickle_error(std::string_view bytes) {
  try {
    data::unpickle(bytes, "test.p");
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected smoes::Error";
  return "";
}

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s += char(c);
  return s;
}

}  // namespace

TEST(Pickle, ReadsEveryFixtureAsPythonDoes) {
  for (const auto& name : kValidFixtures) {
    SCOPED_TRACE(name);
    auto pkl = pickle_fixture(name + ".pkl");
    json want = json::parse(read_file(pickle_fixture(name + ".json")));
    EXPECT_EQ(data::unpickle(read_file(pkl), pkl), want);
    EXPECT_EQ(data::unpickle_file(pkl), want);
  }
}

TEST(Pickle, MapsPythonTypesToJson) {
  json v = data::unpickle_file(pickle_fixture("py3_proto2_all.pkl"));
  EXPECT_EQ(v["tuples"], json::parse("[[], [1], [1, \"a\"], [1, 2, 3], [1, 2, 3, 4]]"));
  EXPECT_EQ(v["nonstr_keys"], json::parse(R"({"1":"int","2.5":"float","False":"bool","None":"none","-3":"neg"})"));
  EXPECT_EQ(v["shared"], json::parse("[[1, 2], [1, 2]]"));  // one list referenced twice (BINGET)
  EXPECT_TRUE(v["ints"].back().is_number_unsigned());       // 2**64 - 1
  EXPECT_EQ(v["ints"].back().get<uint64_t>(), UINT64_MAX);
  EXPECT_EQ(v["text"][4], "emoji \xF0\x9F\x98\x80");

  json py2 = data::unpickle_file(pickle_fixture("py2_proto0_all.pkl"));
  EXPECT_EQ(py2["latin1"], "caf\xC3\xA9");  // a Latin-1 byte string becomes UTF-8
  EXPECT_EQ(py2["utf8"], "caf\xC3\xA9");    // a UTF-8 byte string is kept
  EXPECT_EQ(py2["escapes"], std::string("q'uote\" back\\slash\ttab\nnl\0nul\x7f", 30));
  EXPECT_EQ(py2["uescape"], "back\\slash \\u0041 new\nline \xF0\x9F\x98\x80");
  EXPECT_EQ(py2["big_long"].get<uint64_t>(), uint64_t(1) << 63);
}

TEST(Pickle, RefcocoShapedPython2File) {
  json refs = data::unpickle_file(pickle_fixture("py2_proto2_refs.pkl"));
  ASSERT_TRUE(refs.is_array());
  ASSERT_EQ(refs.size(), 2u);
  EXPECT_EQ(refs[0]["sentences"][1]["sent"], "caf\xC3\xA9");
  EXPECT_EQ(refs[0]["sentences"][1]["raw"], "caf\xC3\xA9");
  EXPECT_EQ(refs[1]["ann_id"], 1002);  // a Python 2 long (LONG1)
  EXPECT_EQ(refs[1]["split"], "testA");
}

TEST(Pickle, RejectsCodeExecution) {
  auto msg = unpickle_error(read_file(pickle_fixture("hostile_reduce.pkl")));
  EXPECT_NE(msg.find("test.p: byte offset 2: opcode 0x63 (GLOBAL) is not allowed: it imports a Python object"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("nothing was executed"), std::string::npos) << msg;
  msg = unpickle_error(read_file(pickle_fixture("hostile_reduce_proto0.pkl")));
  EXPECT_NE(msg.find("(GLOBAL) is not allowed"), std::string::npos) << msg;
  // Every opcode that imports, calls or builds objects, even without a GLOBAL before it.
  const std::pair<int, const char*> kRefused[] = {
      {'c', "GLOBAL"}, {0x93, "STACK_GLOBAL"}, {'R', "REDUCE"},     {'b', "BUILD"},        {'i', "INST"},
      {'o', "OBJ"},    {0x81, "NEWOBJ"},       {0x92, "NEWOBJ_EX"}, {0x82, "EXT1"},        {0x83, "EXT2"},
      {0x84, "EXT4"},  {'P', "PERSID"},        {'Q', "BINPERSID"},  {0x97, "NEXT_BUFFER"}, {0x98, "READONLY_BUFFER"},
  };
  for (const auto& [op, name] : kRefused) {
    msg = unpickle_error(bytes({0x80, 4, 'N', op, '.'}));
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", op);
    EXPECT_NE(msg.find(std::string("test.p: byte offset 3: opcode ") + hex + " (" + name + ") is not allowed: it "),
              std::string::npos)
        << msg;
    EXPECT_NE(msg.find("nothing was executed"), std::string::npos) << msg;
  }
  EXPECT_NE(unpickle_error(bytes({0x80, 4, 'N', 'R', '.'})).find("(REDUCE) is not allowed: it calls a function"),
            std::string::npos);
  EXPECT_NE(unpickle_error(bytes({0x80, 4, 'N', 0x81, '.'})).find("(NEWOBJ) is not allowed: it creates a class instance"),
            std::string::npos);
}

TEST(Pickle, RefusesAClassInstanceAtProtocol4) {
  // What Python 3 writes for [Ref()]: FRAME, ..., STACK_GLOBAL, NEWOBJ, BUILD.
  std::string path = pickle_fixture("instance_proto4.p");
  try {
    data::unpickle_file(path);
    ADD_FAILURE() << "expected smoes::Error";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_EQ(msg.rfind(path + ": byte offset ", 0), 0u) << msg;
    EXPECT_NE(msg.find("(STACK_GLOBAL) is not allowed: it imports a Python object"), std::string::npos) << msg;
    EXPECT_NE(msg.find("nothing was executed"), std::string::npos) << msg;
  }
  // Python 3 writes a set below protocol 4 as a call of builtins.set: refused too.
  auto msg = unpickle_error(read_file(pickle_fixture("set_proto2.p")));
  EXPECT_NE(msg.find("(GLOBAL) is not allowed"), std::string::npos) << msg;
  EXPECT_NE(msg.find("nothing was executed"), std::string::npos) << msg;
}

TEST(Pickle, ReadsPython3ProtocolsZeroToFive) {
  json expected = json::parse(read_file(pickle_fixture("expected.json")));
  for (int p = 0; p <= 5; ++p) {
    SCOPED_TRACE("protocol " + std::to_string(p));
    json refs = data::unpickle_file(refs_fixture(p));
    EXPECT_EQ(refs, expected[std::to_string(p)]);
    EXPECT_EQ(refs[1]["box"], refs[0]["box"]);  // one list referenced twice
    EXPECT_EQ(refs[0]["sentences"][1]["raw"], "Caf\xC3\xA9 \xE2\x80\x94 \xF0\x9F\x98\x80");
  }
  json second = data::unpickle_file(refs_fixture(5))[1];
  EXPECT_EQ(second["cat_ids"], json::parse("[1, 3, 18, 250]"));  // sorted, not the file's hash order
  EXPECT_EQ(second["words"], json::parse(R"(["caf\u00e9", "left", "man", "zebra"])"));
  EXPECT_EQ(second["frozen"], json::parse("[4, 5]"));
  EXPECT_EQ(second["no_words"], json::array());
  EXPECT_EQ(second["mask"], std::string("\0\xC3\xBFRLE", 6));  // bytes, not UTF-8: read as Latin-1
  EXPECT_EQ(second["utf8_bytes"], "caf\xC3\xA9");
  EXPECT_EQ(second["buffer"], "\x01\x02" "ab");  // bytearray
  EXPECT_EQ(second["ann_id"], int64_t(1) << 40);
}

TEST(Pickle, ReadsEveryDataOpcode) {
  auto read = [](std::initializer_list<int> b) { return data::unpickle(bytes(b), "t"); };
  // A FRAME as long as what is left; MEMOIZE numbers 0, 1, ...; BINGET fetches "x".
  EXPECT_EQ(read({0x80, 4, 0x95, 11, 0, 0, 0, 0, 0, 0, 0, ']', 0x94, 0x8c, 1, 'x', 0x94, 'a', 'h', 1, 'a', '.'}),
            json::parse(R"(["x", "x"])"));
  // DUP shares a list, as Python does: both tuple items see the APPEND.
  EXPECT_EQ(read({0x80, 4, ']', '2', 'K', 1, 'a', 0x86, '.'}), json::parse("[[1], [1]]"));
  EXPECT_EQ(read({0x80, 4, 'N', 'K', 5, '0', '.'}), json());                      // POP
  EXPECT_EQ(read({0x80, 4, 'N', '(', '0', '.'}), json());                         // POP drops an empty MARK
  EXPECT_EQ(read({0x80, 4, 'N', '(', 'K', 1, 'K', 2, '1', '.'}), json());         // POP_MARK
  EXPECT_EQ(read({0x80, 4, 0x8d, 2, 0, 0, 0, 0, 0, 0, 0, 'h', 'i', '.'}), "hi");  // BINUNICODE8
  EXPECT_EQ(read({0x80, 4, 0x8e, 2, 0, 0, 0, 0, 0, 0, 0, 0xff, 'A', '.'}), "\xC3\xBF" "A");  // BINBYTES8
  EXPECT_EQ(read({0x80, 5, 0x96, 1, 0, 0, 0, 0, 0, 0, 0, 'z', '.'}), "z");       // BYTEARRAY8
  EXPECT_EQ(read({0x80, 3, 'C', 1, 'z', '.'}), "z");                              // SHORT_BINBYTES
  EXPECT_EQ(read({0x80, 3, 'B', 1, 0, 0, 0, 'z', '.'}), "z");                     // BINBYTES
  EXPECT_EQ(read({0x80, 4, 0x8b, 2, 0, 0, 0, 0x2c, 0x01, '.'}), 300);             // LONG4
  // A set of mixed scalars sorts as null < bool < numbers (NaN last) < str.
  json set = read({0x80, 4, 0x8f, '(', 'K', 3, 'N', 0x88, 'G', 0x7f, 0xf8, 0, 0, 0, 0, 0, 0, 'G', 0x3f, 0xf8, 0, 0, 0,
                   0, 0, 0, 0x8c, 1, 'a', 'J', 0xff, 0xff, 0xff, 0xff, 0x90, '(', 'K', 0, 0x90, '.'});
  ASSERT_EQ(set.size(), 8u);
  EXPECT_TRUE(std::isnan(set[6].get<double>()));
  set[6] = "NaN";
  EXPECT_EQ(set, json::parse(R"([null, true, -1, 0, 1.5, 3, "NaN", "a"])"));
  // A frozenset of tuples keeps the file's order.
  EXPECT_EQ(read({0x80, 4, '(', 'K', 2, 0x85, 'K', 1, 0x85, 0x91, '.'}), json::parse("[[2], [1]]"));
}

TEST(Pickle, RejectsBadUseOfProtocol4Opcodes) {
  auto has = [](std::initializer_list<int> b, const std::string& want) {
    std::string msg = unpickle_error(bytes(b));
    EXPECT_NE(msg.find(want), std::string::npos) << msg;
  };
  // A FRAME longer than the file: refused before anything is read or allocated.
  has({0x80, 4, 0x95, 100, 0, 0, 0, 0, 0, 0, 0, 'N', '.'},
      "test.p: byte offset 2: FRAME: truncated: the frame declares 100 bytes, only 2 left");
  has({0x80, 4, 0x95, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 'N', '.'},
      "FRAME: truncated: the frame declares 18446744073709551615 bytes, only 2 left");
  has({0x80, 4, 0x95, 1, 0, 0}, "FRAME: truncated: needs 8 bytes, only 3 left");
  has({0x80, 4, 0x8d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 'a', '.'},
      "BINUNICODE8: truncated: needs 18446744073709551615 bytes, only 2 left");
  has({0x80, 4, 0x96, 0, 0, 0, 0, 0, 0, 0, 0x80, '.'}, "BYTEARRAY8: truncated: needs 9223372036854775808 bytes");
  has({0x80, 4, 0x8c, 2, 0xc3, 0x28, '.'}, "SHORT_BINUNICODE: string is not valid UTF-8");
  has({0x80, 4, 0x8b, 0xff, 0xff, 0xff, 0xff, '.'}, "LONG4: negative length");
  has({0x80, 4, ']', '(', 'K', 1, 0x90, '.'}, "ADDITEMS: expects a set to add to, found a list");
  has({0x80, 4, 0x8f, 'K', 1, 0x90, '.'}, "ADDITEMS: no MARK on the stack");
  has({0x80, 4, '}', '(', 0x91, 'N', 's', '.'}, "SETITEM: dict key is a frozenset");
  has({0x80, 4, 0x8f, 0x94, '(', 'h', 0, 0x90, '.'}, "a container contains itself");
  has({0x80, 4, 0x94, '.'}, "byte offset 2: MEMOIZE: stack underflow");
  has({0x80, 4, '2', '.'}, "DUP: stack underflow");
  has({0x80, 4, '0', '.'}, "POP: stack underflow");
  has({0x80, 4, 'N', '1', '.'}, "POP_MARK: no MARK on the stack");
  // "Billion laughs" by DUP: each level is the tuple (level, level).
  std::string s = bytes({0x80, 4, ']'});
  for (int i = 0; i < 60; ++i) s += bytes({'2', 0x86});
  s += ".";
  auto msg = unpickle_error(s);
  EXPECT_NE(msg.find("shared references expand to far more data"), std::string::npos) << msg;
}

TEST(Pickle, ReadsProtocol4AndRejectsUnknownOpcodes) {
  EXPECT_EQ(data::unpickle_file(pickle_fixture("py3_proto4.pkl")), json::parse(R"({"a": [1, 2]})"));
  auto msg = unpickle_error(bytes({0x80, 2, 0xff, '.'}));
  EXPECT_NE(msg.find("byte offset 2: opcode 0xff is not a pickle opcode"), std::string::npos) << msg;
  msg = unpickle_error(bytes({0x80, 9, 'N', '.'}));
  EXPECT_NE(msg.find("unsupported protocol 9"), std::string::npos) << msg;
}

TEST(Pickle, RejectsEveryTruncation) {
  std::vector<std::string> files;
  for (const auto& name : kValidFixtures) files.push_back(pickle_fixture(name + ".pkl"));
  for (int p = 0; p <= 5; ++p) files.push_back(refs_fixture(p));
  for (const auto& name : files) {
    std::string full = read_file(name);
    for (size_t n = 0; n < full.size(); ++n) {
      std::string msg = unpickle_error(std::string_view(full).substr(0, n));
      EXPECT_NE(msg.find("truncated"), std::string::npos) << name << " cut at " << n << ": " << msg;
    }
  }
}

TEST(Pickle, RejectsDeepNesting) {
  auto msg = unpickle_error(std::string(100000, '('));
  EXPECT_NE(msg.find("more than 1000 open MARKs"), std::string::npos) << msg;
  msg = unpickle_error(std::string(100000, ']') + ".");
  EXPECT_NE(msg.find("99999 values left"), std::string::npos) << msg;
  msg = unpickle_error(std::string(100000, ']'));
  EXPECT_NE(msg.find("without a STOP"), std::string::npos) << msg;
  // 100000 lists, each appended to the one below it: nested 100000 deep.
  msg = unpickle_error(std::string(100000, ']') + std::string(99999, 'a') + ".");
  EXPECT_NE(msg.find("nest deeper than 1000 levels"), std::string::npos) << msg;

  auto nested = [](size_t depth) { return std::string(depth, ']') + std::string(depth - 1, 'a') + "."; };
  json v = data::unpickle(nested(data::kPickleMaxDepth), "ok");
  for (size_t d = 1; d < data::kPickleMaxDepth; ++d) v = json(v[0]);
  EXPECT_EQ(v, json::array());
  EXPECT_NE(unpickle_error(nested(data::kPickleMaxDepth + 1)).find("nest deeper"), std::string::npos);
}

TEST(Pickle, RejectsHugeDeclaredLengths) {
  // BINUNICODE claiming 2**31 bytes with 3 left: no allocation, a clear error.
  auto msg = unpickle_error(bytes({0x80, 2, 'X', 0, 0, 0, 0x80, 'a', 'b', 'c', '.'}));
  EXPECT_NE(msg.find("byte offset 2: BINUNICODE: truncated: needs 2147483648 bytes, only 4 left"),
            std::string::npos)
      << msg;
  msg = unpickle_error(bytes({0x80, 2, 'T', 0xff, 0xff, 0xff, 0xff, '.'}));
  EXPECT_NE(msg.find("BINSTRING: negative length"), std::string::npos) << msg;
  msg = unpickle_error(bytes({0x80, 2, 0x8a, 0xff, 1, 2, '.'}));
  EXPECT_NE(msg.find("LONG1: truncated: needs 255 bytes"), std::string::npos) << msg;
  msg = unpickle_error(bytes({0x80, 2, 0x8a, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, '.'}));
  EXPECT_NE(msg.find("LONG1: integer of 10 bytes does not fit in 64 bits"), std::string::npos) << msg;
  msg = unpickle_error("I123456789012345678901234567890\n.");
  EXPECT_NE(msg.find("INT: integer 123456789012345678901234567890 does not fit in 64 bits"), std::string::npos)
      << msg;
}

TEST(Pickle, RejectsBadMemoAndStackUse) {
  auto msg = unpickle_error(bytes({0x80, 2, 'j', 5, 0, 0, 0, '.'}));
  EXPECT_NE(msg.find("byte offset 2: LONG_BINGET: memo index 5 was never stored"), std::string::npos) << msg;
  EXPECT_NE(unpickle_error("g7\n.").find("GET: memo index 7 was never stored"), std::string::npos);
  EXPECT_NE(unpickle_error("gx\n.").find("GET: not a memo index"), std::string::npos);
  EXPECT_NE(unpickle_error(bytes({'q', 0, '.'})).find("BINPUT: stack underflow"), std::string::npos);
  EXPECT_NE(unpickle_error(bytes({0x80, 2, 'a', '.'})).find("byte offset 2: APPEND: stack underflow"), std::string::npos);
  EXPECT_NE(unpickle_error(bytes({0x80, 2, ']', '(', 'a', '.'})).find("APPEND: stack underflow (only a MARK is left)"),
            std::string::npos);
  EXPECT_NE(unpickle_error(bytes({0x80, 2, ']', 'N', 'e', '.'})).find("APPENDS: no MARK on the stack"), std::string::npos);
  EXPECT_NE(unpickle_error(bytes({0x80, 2, '(', 'N', '.'})).find("STOP with a MARK still open"), std::string::npos);
  EXPECT_NE(unpickle_error(bytes({0x80, 2, 'N', 'N', '.'})).find("STOP with 1 values left below the result"),
            std::string::npos);
  EXPECT_NE(unpickle_error(bytes({0x80, 2, '.'})).find("STOP with an empty stack"), std::string::npos);
  EXPECT_NE(unpickle_error(bytes({0x80, 2, 'N', '.', 'N'})).find("1 bytes of trailing data after STOP"),
            std::string::npos);
  EXPECT_NE(unpickle_error("").find("byte offset 0: truncated"), std::string::npos);
  EXPECT_NE(unpickle_error(bytes({0x80, 2, 'N', 'N', 'a', '.'})).find("APPEND: expects a list to add to, found None"),
            std::string::npos);
  EXPECT_NE(unpickle_error(bytes({0x80, 2, ')', 'N', 'a', '.'})).find("expects a list to add to, found a tuple"),
            std::string::npos);
  EXPECT_NE(unpickle_error(bytes({0x80, 2, '}', '(', 'N', 'u', '.'})).find("SETITEMS: odd number of values"),
            std::string::npos);
  EXPECT_NE(unpickle_error(bytes({0x80, 2, '}', 'K', 1, 0x85, 'N', 's', '.'})).find("SETITEM: dict key is a tuple"),
            std::string::npos);
  EXPECT_NE(unpickle_error(bytes({0x80, 2, 'N', 'N', 0x87, '.'})).find("TUPLE3: stack underflow"), std::string::npos);
  EXPECT_NE(unpickle_error(bytes({0x80, 2, 'X', 2, 0, 0, 0, 0xc3, 0x28, '.'})).find("BINUNICODE: string is not valid UTF-8"),
            std::string::npos);
  EXPECT_NE(unpickle_error("S'abc\n.").find("STRING: the argument must be a quoted string"), std::string::npos);
  EXPECT_NE(unpickle_error("V\\ud800\n.").find("UNICODE: lone surrogate"), std::string::npos);
  EXPECT_NE(unpickle_error("Fabc\n.").find("FLOAT: not a float"), std::string::npos);
}

TEST(Pickle, RejectsRecursiveAndExplodingReferences) {
  // A list appended to itself (what Python writes for l = []; l.append(l)).
  auto msg = unpickle_error(bytes({0x80, 2, ']', 'q', 0, 'h', 0, 'a', '.'}));
  EXPECT_NE(msg.find("a container contains itself"), std::string::npos) << msg;
  // "Billion laughs": level i is [level i-1, level i-1], 60 levels, about 100 bytes.
  std::string s = bytes({0x80, 2, '(', ']', 'q', 0});
  for (int i = 1; i <= 60; ++i) s += bytes({'(', 'h', i - 1, 'h', i - 1, 'l', 'q', i});
  s += "l.";
  msg = unpickle_error(s);
  EXPECT_NE(msg.find("shared references expand to far more data"), std::string::npos) << msg;
  // A long string fetched from the memo many times is charged by its length too.
  std::string big = bytes({0x80, 2, '(', 'X', 0, 0, 1, 0}) + std::string(65536, 'x') + bytes({'q', 0});
  for (int i = 0; i < 4096; ++i) big += bytes({'h', 0});
  big += "l.";
  msg = unpickle_error(big);
  EXPECT_NE(msg.find("shared references expand"), std::string::npos) << msg;
}

TEST(Pickle, TextProtocolDetails) {
  EXPECT_EQ(data::unpickle("I01\n.", "t"), json(true));
  EXPECT_EQ(data::unpickle("I00\n.", "t"), json(false));
  EXPECT_EQ(data::unpickle("I-12\n.", "t"), json(-12));
  EXPECT_EQ(data::unpickle("L18446744073709551615L\n.", "t").get<uint64_t>(), UINT64_MAX);
  EXPECT_EQ(data::unpickle("F-0.5\n.", "t"), json(-0.5));
  EXPECT_EQ(data::unpickle("S'a\\x41\\101\\n\\q'\n.", "t"), json("aAA\n\\q"));
  EXPECT_EQ(data::unpickle("S\"it's\"\n.", "t"), json("it's"));
  // An even run of backslashes before 'u' is literal; an odd one starts an escape.
  EXPECT_EQ(data::unpickle("V\\\\u0041 \\\\\\u0041 \\u00e9\n.", "t"), json("\\\\u0041 \\\\A \xC3\xA9"));
  EXPECT_EQ(data::unpickle("V\\ud83d\\ude00\n.", "t"), json("\xF0\x9F\x98\x80"));  // a UTF-16 pair
  EXPECT_EQ(data::unpickle("(dp0\nI1\nI2\nsVk\np1\ng1\ns.", "t"), json::parse(R"({"1": 2, "k": "k"})"));
}

TEST(Pickle, FuzzedInputsNeverCrash) {
  std::mt19937 rng(20260417);
  std::vector<std::string> seeds;
  for (const auto& name : kValidFixtures) seeds.push_back(read_file(pickle_fixture(name + ".pkl")));
  for (int p = 0; p <= 5; ++p) seeds.push_back(read_file(refs_fixture(p)));
  seeds.push_back(data::pickle(json::parse(R"({"a": [1, 2.5, "x", null, true, {"b": []}], "c": -70000})")));
  size_t returned = 0, thrown = 0;
  for (int iter = 0; iter < 6000; ++iter) {
    std::string s = seeds[size_t(iter) % seeds.size()];
    int flips = 1 + int(rng() % 4);
    for (int k = 0; k < flips; ++k) {
      size_t pos = rng() % s.size();
      if (rng() % 4 == 0) s[pos] = char(s[pos] ^ (1 << (rng() % 8)));
      else s[pos] = char(rng() % 256);
    }
    if (iter % 7 == 0) s.resize(rng() % (s.size() + 1));
    try {
      json v = data::unpickle(s, "fuzz");
      ++returned;
    } catch (const Error&) {
      ++thrown;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "iteration " << iter << ": unexpected exception type: " << e.what();
    }
  }
  EXPECT_EQ(returned + thrown, 6000u);
  EXPECT_GT(thrown, 0u);
}

TEST(Pickle, WriterMatchesPythonProtocol2) {
  // What Python 3 writes for {"a": [1, 300, -1, True, None]} with protocol 2, minus the BINPUTs.
  std::string want = bytes({0x80, 2, '}', 'X', 1, 0, 0, 0, 'a', ']', '(', 'K', 1, 'M', 0x2c, 1, 'J', 0xff, 0xff,
                            0xff, 0xff, 0x88, 'N', 'e', 's', '.'});
  EXPECT_EQ(data::pickle(json::parse(R"({"a": [1, 300, -1, true, null]})")), want);
  EXPECT_EQ(data::pickle(json(1.5)), bytes({0x80, 2, 'G', 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, '.'}));
  EXPECT_EQ(data::pickle(json(int64_t(1) << 40)), bytes({0x80, 2, 0x8a, 6, 0, 0, 0, 0, 0, 1, '.'}));
  EXPECT_EQ(data::pickle(json(-(int64_t(1) << 40))), bytes({0x80, 2, 0x8a, 6, 0, 0, 0, 0, 0, 0xff, '.'}));
  EXPECT_EQ(data::pickle(json(uint64_t(1) << 63)), bytes({0x80, 2, 0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0x80, 0, '.'}));
  EXPECT_EQ(data::pickle(json::array({"x"})), bytes({0x80, 2, ']', 'X', 1, 0, 0, 0, 'x', 'a', '.'}));
}

TEST(Pickle, WriterRoundTrips) {
  std::vector<json> values = {
      nullptr, true, false, 0, 255, 256, 65535, 65536, -1, INT32_MIN, INT32_MAX, int64_t(INT32_MAX) + 1,
      int64_t(INT32_MIN) - 1, INT64_MIN, INT64_MAX, uint64_t(INT64_MAX) + 1, UINT64_MAX, 0.0, -2.5, 1e308, 5e-324,
      "", std::string("nul\0inside", 10), "caf\xC3\xA9 \xF0\x9F\x98\x80", json::array(), json::object(),
      json::parse(R"({"refs": [{"ref_id": 1, "sentences": [{"sent": "man", "tokens": ["man"]}], "box": [1.5, 2, 3, 4]}],
                      "": {"nested": [[], {}, [[1]]]}})"),
  };
  json big_list = json::array(), big_dict = json::object();
  for (int i = 0; i < 2501; ++i) big_list.push_back(i * 1000);  // batches of 1000, 1000, 500 and 1
  for (int i = 0; i < 1001; ++i) big_dict["k" + std::to_string(i)] = i;
  values.push_back(big_list);
  values.push_back(big_dict);
  for (const auto& v : values) EXPECT_EQ(data::unpickle(data::pickle(v), "round trip"), v) << v.dump();

  json deep = json::array();
  for (size_t d = 1; d < data::kPickleMaxDepth; ++d) deep = json::array({std::move(deep)});
  EXPECT_EQ(data::unpickle(data::pickle(deep), "deep"), deep);
}

TEST(Pickle, WriterRejectsWhatItCannotWrite) {
  json deep = json::array();
  for (size_t d = 0; d < data::kPickleMaxDepth; ++d) deep = json::array({std::move(deep)});
  EXPECT_THROW(data::pickle(deep), Error);
  EXPECT_THROW(data::pickle(json("\xff\xfe")), Error);
  EXPECT_THROW(data::pickle(json::binary({1, 2})), Error);
}
