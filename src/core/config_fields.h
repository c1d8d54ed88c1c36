// The field-visitor machinery behind config.h: each config struct lists its
// fields once in `fields(V&)`, and the JSON reader, writer and validator are
// visitors over that list. Keeps load/save/validate from drifting apart.
#pragma once
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace smoes::config_detail {

// A constraint on one field: a numeric range and/or a set of allowed strings.
struct Rule {
  double lo = -1e300, hi = 1e300;
  std::vector<std::string> choices;
};
inline Rule Range(double lo, double hi) { return Rule{lo, hi, {}}; }
inline Rule OneOf(std::vector<std::string> choices) { return Rule{-1e300, 1e300, std::move(choices)}; }

// Throws smoes::Error("<source>: <path>: <problem>").
[[noreturn]] void fail(const std::string& source, const std::string& path, const std::string& problem);

void check_rule(double value, const Rule& rule, const std::string& source, const std::string& path);
void check_rule(const std::string& value, const Rule& rule, const std::string& source, const std::string& path);
inline void check_rule(int value, const Rule& rule, const std::string& source, const std::string& path) {
  check_rule(static_cast<double>(value), rule, source, path);
}
inline void check_rule(int64_t value, const Rule& rule, const std::string& source, const std::string& path) {
  check_rule(static_cast<double>(value), rule, source, path);
}
template <class T>  // lists, maps and bools carry no rule
void check_rule(const T&, const Rule&, const std::string&, const std::string&) {}

void read_value(const nlohmann::json& j, int& v, const std::string& source, const std::string& path);
void read_value(const nlohmann::json& j, int64_t& v, const std::string& source, const std::string& path);
void read_value(const nlohmann::json& j, double& v, const std::string& source, const std::string& path);
void read_value(const nlohmann::json& j, bool& v, const std::string& source, const std::string& path);
void read_value(const nlohmann::json& j, std::string& v, const std::string& source, const std::string& path);
void read_value(const nlohmann::json& j, std::vector<std::string>& v, const std::string& source,
                const std::string& path);
void read_value(const nlohmann::json& j, std::vector<int>& v, const std::string& source, const std::string& path);
void read_value(const nlohmann::json& j, std::map<std::string, double>& v, const std::string& source,
                const std::string& path);

// Reads fields from a JSON object; unknown keys are an error (with a suggestion).
class Reader {
 public:
  Reader(const nlohmann::json& j, std::string source, std::string prefix);

  template <class T>
  void operator()(const char* key, T& value, const char* /*help*/, const Rule& rule = {}) {
    seen_.insert(key);
    auto it = j_.find(key);
    if (it == j_.end()) return;
    read_value(*it, value, source_, prefix_ + key);
    check_rule(value, rule, source_, prefix_ + key);
  }
  template <class S>
  void section(const char* key, S& sub) {
    seen_.insert(key);
    auto it = j_.find(key);
    if (it == j_.end()) return;
    if (!it->is_object()) fail(source_, prefix_ + key, "expected an object, got " + std::string(it->type_name()));
    Reader r(*it, source_, prefix_ + key + ".");
    sub.fields(r);
    r.finish();
  }
  void finish() const;  // throws on keys no field claimed

 private:
  const nlohmann::json& j_;
  std::string source_, prefix_;
  std::set<std::string> seen_;
};

class Writer {
 public:
  nlohmann::json out = nlohmann::json::object();
  template <class T>
  void operator()(const char* key, const T& value, const char*, const Rule& = {}) {
    out[key] = value;
  }
  template <class S>
  void section(const char* key, S& sub) {
    Writer w;
    sub.fields(w);
    out[key] = std::move(w.out);
  }
};

// Checks every rule of values set in code (the reader checks while reading).
class Validator {
 public:
  explicit Validator(std::string source, std::string prefix = "")
      : source_(std::move(source)), prefix_(std::move(prefix)) {}
  template <class T>
  void operator()(const char* key, const T& value, const char*, const Rule& rule = {}) {
    check_rule(value, rule, source_, prefix_ + key);
  }
  template <class S>
  void section(const char* key, S& sub) {
    Validator v(source_, prefix_ + key + ".");
    sub.fields(v);
  }

 private:
  std::string source_, prefix_;
};

}  // namespace smoes::config_detail
