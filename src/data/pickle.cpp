#include "data/pickle.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <limits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/files.h"

namespace smoes::data {

using nlohmann::json;

namespace {

// Opcodes (CPython Lib/pickletools.py); the ones this reader accepts first.
enum Op : uint8_t {
  MARK = '(', STOP = '.', INT = 'I', BININT = 'J', BININT1 = 'K', LONG = 'L', BININT2 = 'M', NONE = 'N',
  FLOAT = 'F', BINFLOAT = 'G', STRING = 'S', BINSTRING = 'T', SHORT_BINSTRING = 'U', UNICODE = 'V',
  BINUNICODE = 'X', APPEND = 'a', DICT = 'd', APPENDS = 'e', GET = 'g', BINGET = 'h', LONG_BINGET = 'j',
  LIST = 'l', PUT = 'p', BINPUT = 'q', LONG_BINPUT = 'r', SETITEM = 's', TUPLE = 't', SETITEMS = 'u',
  EMPTY_LIST = ']', EMPTY_DICT = '}', EMPTY_TUPLE = ')', PROTO = 0x80, TUPLE1 = 0x85, TUPLE2 = 0x86,
  TUPLE3 = 0x87, NEWTRUE = 0x88, NEWFALSE = 0x89, LONG1 = 0x8a, POP = '0', POP_MARK = '1', DUP = '2',
  BINBYTES = 'B', SHORT_BINBYTES = 'C', LONG4 = 0x8b, SHORT_BINUNICODE = 0x8c, BINUNICODE8 = 0x8d,
  BINBYTES8 = 0x8e, EMPTY_SET = 0x8f, ADDITEMS = 0x90, FROZENSET = 0x91, MEMOIZE = 0x94, FRAME = 0x95,
  BYTEARRAY8 = 0x96,
};

// Every opcode of protocols 0-5, for messages.
const char* opcode_name(uint8_t code) {
  static const std::pair<uint8_t, const char*> kNames[] = {
      {'(', "MARK"}, {'.', "STOP"}, {'0', "POP"}, {'1', "POP_MARK"}, {'2', "DUP"}, {'F', "FLOAT"},
      {'I', "INT"}, {'J', "BININT"}, {'K', "BININT1"}, {'L', "LONG"}, {'M', "BININT2"}, {'N', "NONE"},
      {'P', "PERSID"}, {'Q', "BINPERSID"}, {'R', "REDUCE"}, {'S', "STRING"}, {'T', "BINSTRING"},
      {'U', "SHORT_BINSTRING"}, {'V', "UNICODE"}, {'X', "BINUNICODE"}, {'a', "APPEND"}, {'b', "BUILD"},
      {'c', "GLOBAL"}, {'d', "DICT"}, {'}', "EMPTY_DICT"}, {'e', "APPENDS"}, {'g', "GET"}, {'h', "BINGET"},
      {'i', "INST"}, {'j', "LONG_BINGET"}, {'l', "LIST"}, {']', "EMPTY_LIST"}, {'o', "OBJ"}, {'p', "PUT"},
      {'q', "BINPUT"}, {'r', "LONG_BINPUT"}, {'s', "SETITEM"}, {'t', "TUPLE"}, {')', "EMPTY_TUPLE"},
      {'u', "SETITEMS"}, {'G', "BINFLOAT"}, {0x80, "PROTO"}, {0x81, "NEWOBJ"}, {0x82, "EXT1"}, {0x83, "EXT2"},
      {0x84, "EXT4"}, {0x85, "TUPLE1"}, {0x86, "TUPLE2"}, {0x87, "TUPLE3"}, {0x88, "NEWTRUE"},
      {0x89, "NEWFALSE"}, {0x8a, "LONG1"}, {0x8b, "LONG4"}, {'B', "BINBYTES"}, {'C', "SHORT_BINBYTES"},
      {0x8c, "SHORT_BINUNICODE"}, {0x8d, "BINUNICODE8"}, {0x8e, "BINBYTES8"}, {0x8f, "EMPTY_SET"},
      {0x90, "ADDITEMS"}, {0x91, "FROZENSET"}, {0x92, "NEWOBJ_EX"}, {0x93, "STACK_GLOBAL"}, {0x94, "MEMOIZE"},
      {0x95, "FRAME"}, {0x96, "BYTEARRAY8"}, {0x97, "NEXT_BUFFER"}, {0x98, "READONLY_BUFFER"},
  };
  for (const auto& [c, name] : kNames)
    if (c == code) return name;
  return nullptr;
}

// What a refused opcode would make Python's unpickler do; nullptr for data opcodes.
const char* refused_action(uint8_t code) {
  switch (code) {
    case 'c': case 0x93: return "it imports a Python object (a class or function) by name";
    case 'R': return "it calls a function";
    case 'b': return "it sets an object's state (which may call its __setstate__)";
    case 'i': return "it imports a class and calls it to build an instance";
    case 'o': return "it calls a class to build an instance";
    case 0x81: case 0x92: return "it creates a class instance (calls cls.__new__)";
    case 0x82: case 0x83: case 0x84: return "it imports a Python object through the copyreg extension registry";
    case 'P': case 'Q': return "it asks the program to load a persistent object by id";
    case 0x97: return "it takes an out-of-band buffer from the program";
    case 0x98: return "it makes an out-of-band buffer read-only";
    default: return nullptr;
  }
}

std::string hex_byte(uint8_t b) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", b);
  return buf;
}

// ---- UTF-8 ----

// Length of the valid UTF-8 sequence starting at s[i]; 0 when it is not one
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
size_t utf8_sequence(std::string_view s, size_t i) {
  unsigned char c = s[i];
  if (c < 0x80) return 1;
  size_t n;
  uint32_t cp, min;
  if ((c & 0xe0) == 0xc0) n = 2, cp = c & 0x1f, min = 0x80;
  else if ((c & 0xf0) == 0xe0) n = 3, cp = c & 0x0f, min = 0x800;
  else if ((c & 0xf8) == 0xf0) n = 4, cp = c & 0x07, min = 0x10000;
  else return 0;
  if (n > s.size() - i) return 0;
  for (size_t k = 1; k < n; ++k) {
    unsigned char d = s[i + k];
    if ((d & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (d & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_sequence(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xc0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += char(0xe0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3f));
    out += char(0x80 | (cp & 0x3f));
  } else {
    out += char(0xf0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3f));
    out += char(0x80 | ((cp >> 6) & 0x3f));
    out += char(0x80 | (cp & 0x3f));
  }
}

// A Python 2 byte string as text: itself when it is UTF-8, else Latin-1.
std::string bytes_to_text(std::string_view s) {
  if (valid_utf8(s)) return std::string(s);
  std::string out;
  out.reserve(s.size() * 2);
  for (unsigned char c : s) append_utf8(out, c);
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Python's repr of a float dict key ("1.5", "1e+16", "inf", "nan").
std::string float_key(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  return json(d).dump();
}

// ---- reader ----

// A value on the stack, in a container or in the memo: a scalar, or a
// container in Reader::nodes_ (so memo references share it, as in Python).
struct Item {
  int32_t node = -1;  // >= 0: index of a container
  json scalar;        // when node < 0
};

enum class Kind : uint8_t { kList, kTuple, kDict, kSet, kFrozenSet };

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::kList: return "list";
    case Kind::kTuple: return "tuple";
    case Kind::kDict: return "dict";
    case Kind::kSet: return "set";
    default: return "frozenset";
  }
}

// ---- set order ----

// Python's sets have no order (a set of str even changes order with the hash
// seed), so sets of scalars are sorted: the same set always reads the same.
int scalar_rank(const json& v) {
  if (v.is_null()) return 0;
  if (v.is_boolean()) return 1;
  if (v.is_number()) return 2;
  return 3;  // string
}

// A strict weak order (numbers compared as doubles, NaN last), so sorting
// hostile values is safe: nlohmann's operator< is not one (NaN, int vs double).
bool scalar_less(const json& a, const json& b) {
  int ra = scalar_rank(a), rb = scalar_rank(b);
  if (ra != rb) return ra < rb;
  if (ra == 1) return !a.get<bool>() && b.get<bool>();
  if (ra == 2) {
    double x = a.get<double>(), y = b.get<double>();
    if (std::isnan(x) || std::isnan(y)) return !std::isnan(x) && std::isnan(y);
    return x < y;
  }
  if (ra == 3) return a.get_ref<const std::string&>() < b.get_ref<const std::string&>();
  return false;
}

// Sets holding tuples or frozensets keep the file's order.
void sort_set(json& set) {
  auto& items = set.get_ref<json::array_t&>();
  if (std::all_of(items.begin(), items.end(), [](const json& v) { return v.is_primitive(); }))
    std::stable_sort(items.begin(), items.end(), scalar_less);
}

struct Node {
  Kind kind = Kind::kList;
  bool shared = false;            // fetched from the memo: may be reached twice, so built by copying
  std::vector<Item> items;        // elements; dict values
  std::vector<std::string> keys;  // dict keys, parallel to items
};

// Work units for copying a scalar (strings by their length).
size_t copy_cost(const json& scalar) {
  return scalar.is_string() ? scalar.get_ref<const std::string&>().size() + 1 : 1;
}

class Reader {
 public:
  Reader(std::string_view in, const std::string& name)
      : in_(in), name_(name), budget_((size_t(1) << 20) + 64 * in.size()) {}
  json run();

 private:
  std::string_view in_;
  const std::string& name_;
  size_t pos_ = 0, at_ = 0;  // read position; offset of the current opcode
  uint8_t op_ = 0;
  size_t budget_;  // copies and built values left before "expands too much"
  std::vector<Item> stack_;
  std::vector<size_t> marks_;  // stack size at each open MARK
  std::vector<Node> nodes_;
  std::unordered_map<uint64_t, Item> memo_;

  [[noreturn]] void fail(const std::string& problem) const {
    throw Error(name_ + ": byte offset " + std::to_string(at_) + ": " + problem);
  }
  [[noreturn]] void fail_op(const std::string& problem) const {
    const char* op = opcode_name(op_);
    fail(std::string(op ? op : "opcode") + ": " + problem);
  }
  [[noreturn]] void reject() const;
  void charge(size_t units);
  bool step();

  // Input.
  std::string_view take(size_t n);
  uint64_t uint_le(size_t n);
  std::string_view line();
  json parse_int(std::string_view text) const;
  uint64_t parse_index(std::string_view text) const;
  json long_from_bytes(std::string_view bytes) const;
  double binfloat();
  double text_float(std::string_view text) const;
  std::string unquote(std::string_view text) const;
  std::string raw_unicode_escape(std::string_view text) const;

  // Stack.
  size_t visible() const { return stack_.size() - (marks_.empty() ? 0 : marks_.back()); }
  Item pop();
  Item& top();
  void push_ref(const Item& item);
  std::vector<Item> pop_mark();
  std::vector<Item> pop_n(size_t n);
  void push(json scalar) { stack_.push_back(Item{-1, std::move(scalar)}); }
  void push_node(Kind kind, std::vector<Item> items = {});
  Node& target(Item& item, Kind kind);
  std::string describe(const Item& item) const;
  std::string key_text(const Item& key) const;
  void set_items(Node& dict, std::vector<Item>& pairs);

  // Opcode groups: each returns false when the opcode is not one of its own.
  bool scalar_op(uint8_t op);
  bool string_op(uint8_t op);
  bool text_op(uint8_t op);
  bool container_op(uint8_t op);
  bool set_op(uint8_t op);
  bool stack_op(uint8_t op);
  bool memo_op(uint8_t op);
  std::string_view sized(size_t width);
  void frame();
  void put(uint64_t index);
  void get(uint64_t index);

  json build(Item root);
};

// The reader stops at the first refused opcode, before reading its argument.
void Reader::reject() const {
  const char* name = opcode_name(op_);
  if (!name)
    fail("opcode " + hex_byte(op_) + " is not a pickle opcode (corrupt file, or not a pickle); nothing was executed");
  const char* action = refused_action(op_);
  fail("opcode " + hex_byte(op_) + " (" + name + ") is not allowed: " +
       (action ? action : "it does not build plain data") +
       ". Only plain data (dict, list, tuple, set, str, bytes, int, float, bool, None) is read; nothing was executed");
}

void Reader::charge(size_t units) {
  if (units > budget_)
    fail("shared references expand to far more data than the file holds (more than " +
         std::to_string((size_t(1) << 20) + 64 * in_.size()) + " values and bytes)");
  budget_ -= units;
}

std::string_view Reader::take(size_t n) {
  size_t left = in_.size() - pos_;
  if (n > left)
    fail_op("truncated: needs " + std::to_string(n) + " bytes, only " + std::to_string(left) + " left");
  auto s = in_.substr(pos_, n);
  pos_ += n;
  return s;
}

uint64_t Reader::uint_le(size_t n) {
  auto b = take(n);
  uint64_t v = 0;
  for (size_t i = n; i-- > 0;) v = (v << 8) | uint8_t(b[i]);
  return v;
}

std::string_view Reader::line() {
  size_t nl = in_.find('\n', pos_);
  if (nl == std::string_view::npos) fail_op("truncated: no newline ending the argument");
  auto s = in_.substr(pos_, nl - pos_);
  pos_ = nl + 1;
  return s;
}

json Reader::parse_int(std::string_view t) const {
  if (!t.empty() && t.front() == '+') t.remove_prefix(1);
  const char* end = t.data() + t.size();
  int64_t v = 0;
  auto [p, ec] = std::from_chars(t.data(), end, v);
  if (ec == std::errc() && p == end && !t.empty()) return v;
  uint64_t u = 0;
  auto [pu, ecu] = std::from_chars(t.data(), end, u);
  if (ecu == std::errc() && pu == end && !t.empty()) return u;
  if (ec == std::errc::result_out_of_range || ecu == std::errc::result_out_of_range)
    fail_op("integer " + std::string(t.substr(0, 40)) + " does not fit in 64 bits");
  fail_op("not a decimal integer: \"" + std::string(t.substr(0, 40)) + "\"");
}

uint64_t Reader::parse_index(std::string_view t) const {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || p != t.data() + t.size() || t.empty())
    fail_op("not a memo index: \"" + std::string(t.substr(0, 40)) + "\"");
  return v;
}

// Little-endian two's complement, as LONG1 stores it (Python's encode_long).
json Reader::long_from_bytes(std::string_view b) const {
  size_t n = b.size();
  if (n == 0) return int64_t(0);
  uint64_t low = 0;
  for (size_t i = std::min<size_t>(n, 8); i-- > 0;) low = (low << 8) | uint8_t(b[i]);
  if (n < 8) {
    bool negative = uint8_t(b[n - 1]) & 0x80;
    if (negative) low |= ~uint64_t(0) << (8 * n);
    return int64_t(low);
  }
  if (n == 8) return int64_t(low);
  bool extra_ok = true;  // bytes 8.. must be a sign extension
  uint8_t fill = uint8_t(b[n - 1]);
  for (size_t i = 8; i < n; ++i) extra_ok = extra_ok && uint8_t(b[i]) == fill;
  if (extra_ok && fill == 0x00) {
    if (low <= uint64_t(std::numeric_limits<int64_t>::max())) return int64_t(low);
    return low;
  }
  if (extra_ok && fill == 0xff && (low >> 63)) return int64_t(low);
  fail_op("integer of " + std::to_string(n) + " bytes does not fit in 64 bits");
}

double Reader::binfloat() {
  uint64_t bits = 0;
  for (unsigned char c : take(8)) bits = (bits << 8) | c;  // big-endian
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

double Reader::text_float(std::string_view t) const {
  double d = 0;
  const char* end = t.data() + t.size();
  auto [p, ec] = std::from_chars(t.data(), end, d);
  if (t.empty() || ec != std::errc() || p != end) fail_op("not a float: \"" + std::string(t.substr(0, 40)) + "\"");
  return d;
}

// STRING's argument: a quoted Python 2 string literal with backslash escapes.
std::string Reader::unquote(std::string_view t) const {
  if (t.size() < 2 || t.front() != t.back() || (t.front() != '\'' && t.front() != '"'))
    fail_op("the argument must be a quoted string");
  t = t.substr(1, t.size() - 2);
  std::string out;
  out.reserve(t.size());
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] != '\\') {
      out += t[i];
      continue;
    }
    if (++i == t.size()) fail_op("string ends with a lone backslash");
    char e = t[i];
    static const std::string_view kFrom = "ntrabfv\\'\"", kTo = "\n\t\r\a\b\f\v\\'\"";
    if (size_t k = kFrom.find(e); k != std::string_view::npos) {
      out += kTo[k];
    } else if (e == 'x') {
      int hi = i + 1 < t.size() ? hex_value(t[i + 1]) : -1, lo = i + 2 < t.size() ? hex_value(t[i + 2]) : -1;
      if (hi < 0 || lo < 0) fail_op("invalid \\x escape");
      out += char(hi * 16 + lo);
      i += 2;
    } else if (e >= '0' && e <= '7') {
      int v = e - '0';
      for (int k = 0; k < 2 && i + 1 < t.size() && t[i + 1] >= '0' && t[i + 1] <= '7'; ++k) v = v * 8 + (t[++i] - '0');
      out += char(v & 0xff);
    } else {
      out += '\\';
      out += e;
    }
  }
  return out;
}

// UNICODE's argument ("raw-unicode-escape"): Latin-1 bytes, where an odd run
// of backslashes followed by u/U starts a \uXXXX / \UXXXXXXXX escape.
std::string Reader::raw_unicode_escape(std::string_view t) const {
  std::vector<uint32_t> cps;
  for (size_t i = 0; i < t.size();) {
    if (t[i] != '\\') {
      cps.push_back(uint8_t(t[i++]));
      continue;
    }
    size_t run = 0;
    while (i + run < t.size() && t[i + run] == '\\') ++run;
    size_t after = i + run;
    bool escape = run % 2 == 1 && after < t.size() && (t[after] == 'u' || t[after] == 'U');
    size_t literal = escape ? run - 1 : run;
    cps.insert(cps.end(), literal, uint32_t('\\'));
    i += run;
    if (!escape) continue;
    size_t digits = t[after] == 'u' ? 4 : 8;
    if (digits > t.size() - after - 1) fail_op("truncated \\u escape");
    uint32_t cp = 0;
    for (size_t k = 0; k < digits; ++k) {
      int h = hex_value(t[after + 1 + k]);
      if (h < 0) fail_op("invalid \\u escape");
      cp = cp * 16 + uint32_t(h);
    }
    if (cp > 0x10ffff) fail_op("\\U escape beyond U+10FFFF");
    cps.push_back(cp);
    i = after + 1 + digits;
  }
  std::string out;
  out.reserve(t.size());
  for (size_t k = 0; k < cps.size(); ++k) {
    uint32_t cp = cps[k];
    if (cp >= 0xd800 && cp <= 0xdbff && k + 1 < cps.size() && cps[k + 1] >= 0xdc00 && cps[k + 1] <= 0xdfff)
      cp = 0x10000 + ((cp - 0xd800) << 10) + (cps[++k] - 0xdc00);
    else if (cp >= 0xd800 && cp <= 0xdfff)
      fail_op("lone surrogate \\u escape (not valid text)");
    append_utf8(out, cp);
  }
  return out;
}

Item Reader::pop() {
  if (visible() == 0) fail_op(marks_.empty() ? "stack underflow" : "stack underflow (only a MARK is left)");
  Item v = std::move(stack_.back());
  stack_.pop_back();
  return v;
}

Item& Reader::top() {
  if (visible() == 0) fail_op(marks_.empty() ? "stack underflow" : "stack underflow (only a MARK is left)");
  return stack_.back();
}

// Pushes another reference to `item` (GET, DUP): a container is shared, as in
// Python; a scalar is copied and charged to the budget. `item` may be on the
// stack, so it is copied before the stack grows.
void Reader::push_ref(const Item& item) {
  if (item.node >= 0) {
    int32_t id = item.node;
    nodes_[size_t(id)].shared = true;
    stack_.push_back(Item{id, {}});
    return;
  }
  charge(copy_cost(item.scalar));
  json copy = item.scalar;
  push(std::move(copy));
}

std::vector<Item> Reader::pop_mark() {
  if (marks_.empty()) fail_op("no MARK on the stack");
  size_t m = marks_.back();
  marks_.pop_back();
  std::vector<Item> items(std::make_move_iterator(stack_.begin() + long(m)), std::make_move_iterator(stack_.end()));
  stack_.resize(m);
  return items;
}

std::vector<Item> Reader::pop_n(size_t n) {
  if (visible() < n) fail_op("stack underflow");
  std::vector<Item> items(std::make_move_iterator(stack_.end() - long(n)), std::make_move_iterator(stack_.end()));
  stack_.resize(stack_.size() - n);
  return items;
}

void Reader::push_node(Kind kind, std::vector<Item> items) {
  if (nodes_.size() >= size_t(std::numeric_limits<int32_t>::max())) fail_op("too many containers");
  Node n;
  n.kind = kind;
  n.items = std::move(items);
  nodes_.push_back(std::move(n));
  stack_.push_back(Item{int32_t(nodes_.size() - 1), {}});
}

std::string Reader::describe(const Item& item) const {
  if (item.node >= 0) return std::string("a ") + kind_name(nodes_[size_t(item.node)].kind);
  switch (item.scalar.type()) {
    case json::value_t::string: return "a str";
    case json::value_t::boolean: return "a bool";
    case json::value_t::number_float: return "a float";
    case json::value_t::null: return "None";
    default: return "an int";
  }
}

// The list (APPEND/APPENDS), dict (SETITEM/SETITEMS) or set (ADDITEMS) an opcode adds to.
Node& Reader::target(Item& item, Kind kind) {
  if (item.node < 0 || nodes_[size_t(item.node)].kind != kind)
    fail_op(std::string("expects a ") + kind_name(kind) + " to add to, found " + describe(item));
  return nodes_[size_t(item.node)];
}

std::string Reader::key_text(const Item& key) const {
  if (key.node >= 0) fail_op("dict key is " + describe(key) + "; only str, int, float, bool and None keys are read");
  const json& k = key.scalar;
  switch (k.type()) {
    case json::value_t::string: return k.get<std::string>();
    case json::value_t::boolean: return k.get<bool>() ? "True" : "False";
    case json::value_t::null: return "None";
    case json::value_t::number_float: return float_key(k.get<double>());
    default: return k.dump();
  }
}

void Reader::set_items(Node& dict, std::vector<Item>& pairs) {
  if (pairs.size() % 2) fail_op("odd number of values after MARK (a key without a value)");
  for (size_t i = 0; i < pairs.size(); i += 2) {
    dict.keys.push_back(key_text(pairs[i]));
    dict.items.push_back(std::move(pairs[i + 1]));
  }
}

bool Reader::scalar_op(uint8_t op) {
  switch (op) {
    case PROTO: {
      uint64_t v = uint_le(1);
      if (v > 5) fail_op("unsupported protocol " + std::to_string(v));
      return true;
    }
    case NONE: push(nullptr); return true;
    case NEWTRUE: push(true); return true;
    case NEWFALSE: push(false); return true;
    case BININT: push(int64_t(int32_t(uint32_t(uint_le(4))))); return true;
    case BININT1: push(int64_t(uint_le(1))); return true;
    case BININT2: push(int64_t(uint_le(2))); return true;
    case LONG1: {
      size_t n = size_t(uint_le(1));
      push(long_from_bytes(take(n)));
      return true;
    }
    case LONG4: {
      uint64_t n = uint_le(4);
      if (n > uint64_t(std::numeric_limits<int32_t>::max())) fail_op("negative length");
      push(long_from_bytes(take(size_t(n))));
      return true;
    }
    case BINFLOAT: push(binfloat()); return true;
    default: return false;
  }
}

// A string argument preceded by its little-endian length of `width` bytes.
// take() checks the length against the input first: nothing is allocated from it.
std::string_view Reader::sized(size_t width) { return take(size_t(uint_le(width))); }

// Python 3 str must be UTF-8. Byte strings (Python 2 str, Python 3 bytes and
// bytearray) have no JSON form: text when UTF-8, else Latin-1.
bool Reader::string_op(uint8_t op) {
  std::string_view s;
  switch (op) {
    case SHORT_BINUNICODE: s = sized(1); break;
    case BINUNICODE: s = sized(4); break;
    case BINUNICODE8: s = sized(8); break;
    case SHORT_BINSTRING: case SHORT_BINBYTES: push(bytes_to_text(sized(1))); return true;
    case BINBYTES: push(bytes_to_text(sized(4))); return true;
    case BINBYTES8: case BYTEARRAY8: push(bytes_to_text(sized(8))); return true;
    case BINSTRING: {
      uint64_t n = uint_le(4);
      if (n > uint64_t(std::numeric_limits<int32_t>::max())) fail_op("negative length");
      push(bytes_to_text(take(size_t(n))));
      return true;
    }
    default: return false;
  }
  if (!valid_utf8(s)) fail_op("string is not valid UTF-8");
  push(std::string(s));
  return true;
}

bool Reader::text_op(uint8_t op) {
  switch (op) {
    case INT: {
      auto t = line();
      if (t == "01" || t == "00") push(t == "01");
      else push(parse_int(t));
      return true;
    }
    case LONG: {
      auto t = line();
      if (!t.empty() && t.back() == 'L') t.remove_suffix(1);
      push(parse_int(t));
      return true;
    }
    case FLOAT: push(text_float(line())); return true;
    case STRING: push(bytes_to_text(unquote(line()))); return true;
    case UNICODE: push(raw_unicode_escape(line())); return true;
    default: return false;
  }
}

bool Reader::container_op(uint8_t op) {
  switch (op) {
    case MARK:
      if (marks_.size() >= kPickleMaxDepth)
        fail_op("more than " + std::to_string(kPickleMaxDepth) + " open MARKs (nested too deep)");
      marks_.push_back(stack_.size());
      return true;
    case EMPTY_LIST: push_node(Kind::kList); return true;
    case EMPTY_TUPLE: push_node(Kind::kTuple); return true;
    case EMPTY_DICT: push_node(Kind::kDict); return true;
    case LIST: push_node(Kind::kList, pop_mark()); return true;
    case TUPLE: push_node(Kind::kTuple, pop_mark()); return true;
    case TUPLE1: case TUPLE2: case TUPLE3: push_node(Kind::kTuple, pop_n(size_t(op - TUPLE1 + 1))); return true;
    case DICT: {
      auto pairs = pop_mark();
      push_node(Kind::kDict);
      set_items(nodes_.back(), pairs);
      return true;
    }
    case APPEND: {
      Item v = pop();
      target(top(), Kind::kList).items.push_back(std::move(v));
      return true;
    }
    case APPENDS: {
      auto items = pop_mark();
      auto& list = target(top(), Kind::kList).items;
      list.insert(list.end(), std::make_move_iterator(items.begin()), std::make_move_iterator(items.end()));
      return true;
    }
    case SETITEM: {
      std::vector<Item> pair = pop_n(2);
      set_items(target(top(), Kind::kDict), pair);
      return true;
    }
    case SETITEMS: {
      auto pairs = pop_mark();
      set_items(target(top(), Kind::kDict), pairs);
      return true;
    }
    default: return false;
  }
}

// Sets and frozensets read as arrays (sorted in build()).
bool Reader::set_op(uint8_t op) {
  switch (op) {
    case EMPTY_SET: push_node(Kind::kSet); return true;
    case FROZENSET: push_node(Kind::kFrozenSet, pop_mark()); return true;
    case ADDITEMS: {
      auto items = pop_mark();
      auto& set = target(top(), Kind::kSet).items;
      set.insert(set.end(), std::make_move_iterator(items.begin()), std::make_move_iterator(items.end()));
      return true;
    }
    default: return false;
  }
}

// FRAME only announces how many bytes the next opcodes take (protocol 4+).
// As in CPython's C unpickler, the length is checked against what is left.
void Reader::frame() {
  uint64_t n = uint_le(8);
  size_t left = in_.size() - pos_;
  if (n > left)
    fail_op("truncated: the frame declares " + std::to_string(n) + " bytes, only " + std::to_string(left) + " left");
}

bool Reader::stack_op(uint8_t op) {
  switch (op) {
    case FRAME: frame(); return true;
    case POP:  // as CPython: with nothing above the top MARK, POP drops the MARK
      if (!marks_.empty() && marks_.back() == stack_.size()) marks_.pop_back();
      else pop();
      return true;
    case POP_MARK: pop_mark(); return true;
    case DUP: push_ref(top()); return true;
    default: return false;
  }
}

void Reader::put(uint64_t index) {
  const Item& t = top();
  Item copy{t.node, {}};
  if (t.node < 0) {
    charge(copy_cost(t.scalar));
    copy.scalar = t.scalar;
  }
  memo_[index] = std::move(copy);
}

void Reader::get(uint64_t index) {
  auto it = memo_.find(index);
  if (it == memo_.end()) fail_op("memo index " + std::to_string(index) + " was never stored (no PUT)");
  push_ref(it->second);
}

bool Reader::memo_op(uint8_t op) {
  switch (op) {
    case BINPUT: put(uint_le(1)); return true;
    case LONG_BINPUT: put(uint_le(4)); return true;
    case PUT: put(parse_index(line())); return true;
    case BINGET: get(uint_le(1)); return true;
    case LONG_BINGET: get(uint_le(4)); return true;
    case GET: get(parse_index(line())); return true;
    case MEMOIZE: put(memo_.size()); return true;  // the next free index, as Python numbers them
    default: return false;
  }
}

// Turns the container graph into JSON without recursion. Containers reached
// only once are moved out; shared ones (and everything under them) copied.
json Reader::build(Item root) {
  if (root.node < 0) return std::move(root.scalar);
  struct Frame {
    int32_t node;
    size_t next;
    bool copy;
    json value;
  };
  std::vector<char> open(nodes_.size(), 0);  // on the current path
  std::vector<Frame> frames;
  auto enter = [&](int32_t id, bool copy) {
    if (frames.size() >= kPickleMaxDepth)
      fail("containers nest deeper than " + std::to_string(kPickleMaxDepth) + " levels");
    if (open[size_t(id)]) fail("a container contains itself (recursive structures have no JSON form)");
    open[size_t(id)] = 1;
    const Node& n = nodes_[size_t(id)];
    json v = n.kind == Kind::kDict ? json::object() : json::array();
    if (n.kind != Kind::kDict) v.get_ref<json::array_t&>().reserve(n.items.size());
    frames.push_back(Frame{id, 0, copy || n.shared, std::move(v)});
  };
  auto attach = [&](Frame& f, json v) {
    const Node& n = nodes_[size_t(f.node)];
    if (n.kind == Kind::kDict) f.value[n.keys[f.next - 1]] = std::move(v);
    else f.value.get_ref<json::array_t&>().push_back(std::move(v));
  };
  enter(root.node, false);
  while (true) {
    Frame& f = frames.back();
    Node& n = nodes_[size_t(f.node)];
    if (f.next == n.items.size()) {
      open[size_t(f.node)] = 0;
      json done = std::move(f.value);
      if (n.kind == Kind::kSet || n.kind == Kind::kFrozenSet) sort_set(done);
      frames.pop_back();
      if (frames.empty()) return done;
      attach(frames.back(), std::move(done));
      continue;
    }
    charge(1);
    Item& child = n.items[f.next++];
    if (child.node >= 0) {
      enter(child.node, f.copy);
      continue;
    }
    if (!f.copy) {
      attach(f, std::move(child.scalar));
      continue;
    }
    charge(copy_cost(child.scalar));
    attach(f, child.scalar);
  }
}

bool Reader::step() {
  if (pos_ >= in_.size()) {
    at_ = pos_;
    fail("truncated: the pickle ends without a STOP opcode");
  }
  at_ = pos_;
  op_ = uint8_t(in_[pos_++]);
  if (op_ == STOP) return false;
  if (!(scalar_op(op_) || string_op(op_) || text_op(op_) || container_op(op_) || set_op(op_) || stack_op(op_) ||
        memo_op(op_)))
    reject();
  return true;
}

json Reader::run() {
  while (step()) {
  }
  if (pos_ != in_.size()) fail(std::to_string(in_.size() - pos_) + " bytes of trailing data after STOP");
  if (!marks_.empty()) fail("STOP with a MARK still open");
  if (stack_.size() != 1)
    fail(stack_.empty() ? "STOP with an empty stack"
                        : "STOP with " + std::to_string(stack_.size() - 1) + " values left below the result");
  Item root = std::move(stack_.back());
  stack_.clear();
  memo_.clear();
  return build(std::move(root));
}

// ---- writer ----

class Writer {
 public:
  std::string run(const json& root);

 private:
  static constexpr size_t kBatch = 1000;  // Python's pickler batches APPENDS / SETITEMS by 1000
  struct Frame {
    const json* v;
    json::const_iterator it;
    size_t done = 0, batch_start = 0, batch_end = 0;
  };
  std::string out_;
  std::vector<Frame> frames_;

  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) out_ += char((v >> (8 * i)) & 0xff);
  }
  void open(const json& v);
  void scalar(const json& v);
  void integer(int64_t v);
  void long1(uint64_t low, size_t n);
  void text(const std::string& s);
  void close_batch(const Frame& f);
  void step();
};

void Writer::integer(int64_t v) {
  if (v >= 0 && v <= 0xff) {
    out_ += char(BININT1);
    out_ += char(v);
  } else if (v >= 0 && v <= 0xffff) {
    out_ += char(BININT2);
    out_ += char(v & 0xff);
    out_ += char(v >> 8);
  } else if (v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max()) {
    out_ += char(BININT);
    u32(uint32_t(int32_t(v)));
  } else {
    // Fewest bytes whose two's complement keeps the sign.
    size_t n = 8;
    auto byte = [&](size_t i) { return uint8_t(uint64_t(v) >> (8 * i)); };
    while (n > 1 && ((byte(n - 1) == 0x00 && !(byte(n - 2) & 0x80)) || (byte(n - 1) == 0xff && (byte(n - 2) & 0x80))))
      --n;
    long1(uint64_t(v), n);
  }
}

// LONG1 with `n` little-endian bytes of `low` (n = 9 adds a zero sign byte).
void Writer::long1(uint64_t low, size_t n) {
  out_ += char(LONG1);
  out_ += char(n);
  for (size_t i = 0; i < n; ++i) out_ += char(i < 8 ? (low >> (8 * i)) & 0xff : 0);
}

void Writer::text(const std::string& s) {
  if (!valid_utf8(s)) throw Error("pickle: string is not valid UTF-8: \"" + s.substr(0, 40) + "\"");
  if (s.size() > 0xffffffffu) throw Error("pickle: string longer than 4 GiB");
  out_ += char(BINUNICODE);
  u32(uint32_t(s.size()));
  out_ += s;
}

void Writer::scalar(const json& v) {
  switch (v.type()) {
    case json::value_t::null: out_ += char(NONE); return;
    case json::value_t::boolean: out_ += char(v.get<bool>() ? NEWTRUE : NEWFALSE); return;
    case json::value_t::number_integer: integer(v.get<int64_t>()); return;
    case json::value_t::number_unsigned: {
      uint64_t u = v.get<uint64_t>();
      if (u <= uint64_t(std::numeric_limits<int64_t>::max())) integer(int64_t(u));
      else long1(u, 9);
      return;
    }
    case json::value_t::number_float: {
      double d = v.get<double>();
      uint64_t bits;
      std::memcpy(&bits, &d, sizeof bits);
      out_ += char(BINFLOAT);
      for (int i = 7; i >= 0; --i) out_ += char((bits >> (8 * i)) & 0xff);
      return;
    }
    case json::value_t::string: text(v.get_ref<const std::string&>()); return;
    default: throw Error(std::string("pickle: a JSON ") + v.type_name() + " value cannot be pickled");
  }
}

void Writer::open(const json& v) {
  if (!v.is_array() && !v.is_object()) return scalar(v);
  // frames_ holds exactly the (non-empty) containers around `v`.
  if (frames_.size() >= kPickleMaxDepth)
    throw Error("pickle: the value nests deeper than " + std::to_string(kPickleMaxDepth) + " levels");
  out_ += char(v.is_array() ? EMPTY_LIST : EMPTY_DICT);
  if (!v.empty()) frames_.push_back(Frame{&v, v.cbegin()});
}

void Writer::close_batch(const Frame& f) {
  size_t n = f.batch_end - f.batch_start;
  if (n == 0) return;
  bool dict = f.v->is_object();
  out_ += char(n == 1 ? (dict ? SETITEM : APPEND) : (dict ? SETITEMS : APPENDS));
}

void Writer::step() {
  Frame& f = frames_.back();
  if (f.done == f.batch_end) {
    close_batch(f);
    if (f.done == f.v->size()) {
      frames_.pop_back();
      return;
    }
    f.batch_start = f.done;
    f.batch_end = std::min(f.done + kBatch, f.v->size());
    if (f.batch_end - f.batch_start > 1) out_ += char(MARK);
  }
  const json& child = f.it.value();
  if (f.v->is_object()) text(f.it.key());
  ++f.it;
  ++f.done;
  open(child);  // may grow frames_ (f is not used after this)
}

std::string Writer::run(const json& root) {
  out_ = {char(PROTO), 2};
  open(root);
  while (!frames_.empty()) step();
  out_ += char(STOP);
  return std::move(out_);
}

}  // namespace

json unpickle(std::string_view bytes, const std::string& name) { return Reader(bytes, name).run(); }

json unpickle_file(const std::string& path) {
  std::string bytes = read_file(path);
  return unpickle(bytes, path);
}

std::string pickle(const json& value) { return Writer().run(value); }

}  // namespace smoes::data
