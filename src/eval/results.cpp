#include "eval/results.h"

#include <cmath>

#include "core/error.h"
#include "core/files.h"
#include "core/json_input.h"

namespace smoes::eval {
namespace {

using nlohmann::json;

// Parses the file; a key repeated in the top-level object is an error (the
// JSON library would silently keep the last one).
json parse(const std::string& path) {
  std::string text = read_file(path);
  check_json_depth(text, path);
  std::set<std::string> top_keys;
  auto on_event = [&](int depth, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::key && depth == 1 && !top_keys.insert(parsed.get<std::string>()).second)
      throw Error(path + ": key '" + parsed.get<std::string>() + "' appears twice");
    return true;
  };
  try {
    return json::parse(text, on_event);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number like 1e999
    throw Error(path + ": not valid JSON: " + e.what());
  }
}

// Where a record sits, for messages: "<path>: record 3" or "<path>: key 'abc'".
struct Where {
  const std::string& path;
  std::string record;
  [[noreturn]] void fail(const std::string& field, const std::string& problem) const {
    throw Error(path + ": " + record + ": field '" + field + "': " + problem);
  }
};

// Integer or non-empty string id, as a string.
std::string id_of(const json& v, const Where& w, const std::string& field) {
  if (v.is_number_integer()) return v.dump();
  if (v.is_string() && !v.get<std::string>().empty()) return v.get<std::string>();
  w.fail(field, std::string("expected an integer or non-empty string id, got ") + v.type_name() + " " + v.dump());
}

const json& field_of(const json& record, const Where& w, const std::string& field) {
  if (!record.is_object()) throw Error(w.path + ": " + w.record + ": expected an object, got " + record.type_name());
  auto it = record.find(field);
  if (it == record.end()) w.fail(field, "missing");
  return *it;
}

std::string string_of(const json& v, const Where& w, const std::string& field) {
  if (!v.is_string()) w.fail(field, std::string("expected a string, got ") + v.type_name());
  return v.get<std::string>();
}

Box box_of(const json& v, const Where& w, const std::string& field) {
  if (!v.is_array() || v.size() != 4) w.fail(field, "expected [x, y, w, h] (4 numbers), got " + v.dump());
  double b[4];
  for (int i = 0; i < 4; ++i) {
    if (!v[i].is_number() || !std::isfinite(v[i].get<double>()))
      w.fail(field, "expected [x, y, w, h] (4 finite numbers), got " + v.dump());
    b[i] = v[i].get<double>();
  }
  if (b[2] < 0 || b[3] < 0) w.fail(field, "width and height must be >= 0, got " + v.dump());
  return {b[0], b[1], b[2], b[3]};
}

int choice_of(const json& v, const Where& w, const std::string& field) {
  if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() > 3)
    w.fail(field, "expected a choice index 0..3, got " + v.dump());
  return v.get<int>();
}

// Adds one record's value under `id`, refusing duplicates and unknown ids.
template <class T>
void insert(std::map<std::string, T>& out, std::map<std::string, std::string>& first_seen, const std::string& id,
            T value, const Where& w, const std::string& id_field, const IdSet* known) {
  if (known && !known->count(id)) w.fail(id_field, "id " + id + " is not in the evaluated set");
  auto [it, inserted] = first_seen.emplace(id, w.record);
  if (!inserted) w.fail(id_field, "id " + id + " appears twice (first at " + it->second + ")");
  out.emplace(id, std::move(value));
}

// Calls f(record, where) for each element of a top-level array.
template <class F>
void each_record(const json& root, const std::string& path, const std::string& expected, F f) {
  if (!root.is_array()) throw Error(path + ": expected " + expected + ", got a JSON " + root.type_name());
  for (size_t i = 0; i < root.size(); ++i) f(root[i], Where{path, "record " + std::to_string(i)});
}

// Calls f(key, value, where) for each member of a top-level object.
template <class F>
void each_member(const json& root, const std::string& path, F f) {
  for (auto it = root.begin(); it != root.end(); ++it) f(it.key(), it.value(), Where{path, "key '" + it.key() + "'"});
}

}  // namespace

std::map<std::string, std::string> read_caption_results(const std::string& path, const IdSet* known_ids) {
  std::map<std::string, std::string> out, seen;
  each_record(parse(path), path, "a JSON array of {\"image_id\", \"caption\"} records",
              [&](const json& r, const Where& w) {
                std::string id = id_of(field_of(r, w, "image_id"), w, "image_id");
                insert(out, seen, id, string_of(field_of(r, w, "caption"), w, "caption"), w, "image_id", known_ids);
              });
  return out;
}

std::map<std::string, std::string> read_answer_results(const std::string& path, const IdSet* known_ids) {
  json root = parse(path);
  std::map<std::string, std::string> out, seen;
  if (root.is_object()) {
    each_member(root, path, [&](const std::string& key, const json& v, const Where& w) {
      if (key.empty()) w.fail("question_id", "empty id");
      insert(out, seen, key, string_of(v, w, "answer"), w, "question_id", known_ids);
    });
    return out;
  }
  each_record(root, path, "a JSON array of {\"question_id\", \"answer\"} records or an object {question_id: answer}",
              [&](const json& r, const Where& w) {
                std::string id = id_of(field_of(r, w, "question_id"), w, "question_id");
                insert(out, seen, id, string_of(field_of(r, w, "answer"), w, "answer"), w, "question_id", known_ids);
              });
  return out;
}

std::map<std::string, Box> read_box_results(const std::string& path, const IdSet* known_ids) {
  json root = parse(path);
  std::map<std::string, Box> out;
  std::map<std::string, std::string> seen;
  if (root.is_object()) {
    each_member(root, path, [&](const std::string& key, const json& v, const Where& w) {
      if (key.empty()) w.fail("ref_id", "empty id");
      insert(out, seen, key, box_of(v, w, "bbox"), w, "ref_id", known_ids);
    });
    return out;
  }
  each_record(root, path, "a JSON array of {\"ref_id\" or \"image_id\", \"bbox\"} records",
              [&](const json& r, const Where& w) {
                const std::string id_field = r.is_object() && r.contains("ref_id") ? "ref_id" : "image_id";
                if (r.is_object() && !r.contains("ref_id") && !r.contains("image_id"))
                  w.fail("ref_id", "missing (neither \"ref_id\" nor \"image_id\" is present)");
                std::string id = id_of(field_of(r, w, id_field), w, id_field);
                insert(out, seen, id, box_of(field_of(r, w, "bbox"), w, "bbox"), w, id_field, known_ids);
              });
  return out;
}

std::map<std::string, VcrPrediction> read_vcr_results(const std::string& path, const IdSet* known_ids) {
  json root = parse(path);
  if (!root.is_object())
    throw Error(path + ": expected a JSON object {annot_id: {\"answer\", \"rationale\"}}, got a JSON " +
                root.type_name());
  std::map<std::string, VcrPrediction> out;
  std::map<std::string, std::string> seen;
  each_member(root, path, [&](const std::string& key, const json& v, const Where& w) {
    if (key.empty()) w.fail("annot_id", "empty id");
    VcrPrediction p;
    p.answer = choice_of(field_of(v, w, "answer"), w, "answer");
    p.rationale = choice_of(field_of(v, w, "rationale"), w, "rationale");
    insert(out, seen, key, p, w, "annot_id", known_ids);
  });
  return out;
}

void write_metrics(const std::string& path, const nlohmann::json& metrics) {
  write_file_atomic(path, metrics.dump(2) + "\n");
}

}  // namespace smoes::eval
