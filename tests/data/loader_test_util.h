// What the loader tests share: fixture paths, temp dirs, tiny PNGs, the
// expected-Example builder, the record-mutation fuzzer (every value replaced
// by one of another type, or removed) and the tiny world every QA loader
// test reads.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/files.h"
#include "data/example.h"
#include "data/image_check.h"
#include "world/generate.h"
#include "world/render.h"
#include "../error_of.h"

namespace loader_test {

using namespace smoes;
using nlohmann::json;
namespace fs = std::filesystem;

inline std::string fixture(const std::string& rel) { return std::string(SMOES_FIXTURES_DIR) + "/data/" + rel; }

inline std::string temp_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("smoes_loader_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

// Plain writes: the fuzz tests write thousands of files (no fsync needed).
inline void write_text(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

inline void write_png(const std::string& path) {
  fs::create_directories(fs::path(path).parent_path());
  write_text(path, world::encode_png(std::vector<uint8_t>(2 * 2 * 3, 128), 2, 2));
}

inline data::Example make(std::string task, std::string id, std::vector<std::string> images, std::string prompt,
                   std::vector<std::string> targets, std::vector<std::string> choices, int answer_index,
                   std::map<std::string, std::string> meta) {
  data::Example ex;
  ex.task = task;
  ex.id = id;
  ex.image_paths = images;
  ex.prompt = prompt;
  ex.targets = targets;
  ex.choices = choices;
  ex.answer_index = answer_index;
  ex.meta = meta;
  return ex;
}

inline void expect_same(const data::Example& got, const data::Example& want) {
  EXPECT_EQ(got.task, want.task);
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.image_paths, want.image_paths);
  EXPECT_EQ(got.prompt, want.prompt);
  EXPECT_EQ(got.targets, want.targets);
  EXPECT_EQ(got.choices, want.choices);
  EXPECT_EQ(got.answer_index, want.answer_index);
  EXPECT_EQ(got.box, want.box);
  EXPECT_EQ(got.image_width, want.image_width);
  EXPECT_EQ(got.image_height, want.image_height);
  EXPECT_EQ(got.meta, want.meta);
}

// JSON pointers to every value of `doc`, looking at the first two items of each list only.
inline void collect_pointers(const json& v, const std::string& p, std::vector<std::string>& out) {
  out.push_back(p);
  if (v.is_object())
    for (const auto& item : v.items()) {
      std::string key;
      for (char c : item.key()) key += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
      collect_pointers(item.value(), p + "/" + key, out);
    }
  if (v.is_array())
    for (size_t i = 0; i < v.size() && i < 2; ++i) collect_pointers(v[i], p + "/" + std::to_string(i), out);
}

// Every variant of `doc` with one value replaced by a value of another type, or removed.
inline std::vector<json> mutations(const json& doc) {
  static const json kOdd[] = {nullptr, true, -3, 2.5, "", json::array({1, "a"}), json::object(), json(UINT64_MAX)};
  std::vector<std::string> pointers;
  collect_pointers(doc, "", pointers);
  std::vector<json> out;
  for (const auto& p : pointers) {
    json::json_pointer ptr(p);
    for (const auto& v : kOdd) {
      json m = doc;
      m[ptr] = v;
      out.push_back(std::move(m));
    }
    if (p.empty()) continue;
    json m = doc;
    json& parent = m[ptr.parent_pointer()];
    if (parent.is_object())
      parent.erase(ptr.back());
    else
      parent.erase(std::stoul(ptr.back()));
    out.push_back(std::move(m));
  }
  return out;
}

// The records of a JSON-lines fixture, as one JSON list.
inline json read_lines(const std::string& path) {
  json lines = json::array();
  std::istringstream in(read_file(path));
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(json::parse(line));
  return lines;
}

// Writes `doc` as JSON lines (one line per item of a list, else one line).
inline void write_lines(const std::string& path, const json& doc) {
  std::string text;
  if (doc.is_array())
    for (const auto& record : doc) text += record.dump() + "\n";
  else
    text = doc.dump() + "\n";
  write_text(path, text);
}

// Loads every mutation of the fixture's records: strict mode may only throw
// smoes::Error, tolerant mode must not throw at all.
template <class Load>
void expect_never_crashes(const std::string& fixture_file, const std::string& path, Load load) {
  size_t runs = 0;
  for (const json& m : mutations(read_lines(fixture_file))) {
    write_lines(path, m);
    try {
      auto examples = load(true, nullptr);
      data::check_images(examples, /*strict=*/true, nullptr);  // annotations never need the images
      for (const auto& ex : examples)
        for (const auto& image : ex.image_paths) EXPECT_TRUE(fs::exists(image));
    } catch (const Error&) {
    }
    data::LoadReport report;
    EXPECT_NO_THROW(load(false, &report)) << m.dump();
    EXPECT_LE(report.skipped, report.records);
    ++runs;
  }
  EXPECT_GT(runs, 100u);
}

// A tiny embedded world, which writes this format: generated once per test
// process (shared by the QA loader tests of this process), removed at exit.
inline const std::string& world_dir() {
  static const std::string dir = [] {
    static const fs::path d = fs::temp_directory_path() / ("smoes_qa_world_" + std::to_string(getpid()));
    if (!fs::exists(d / "MANIFEST.json")) {
      fs::remove_all(d);
      world::generate(world::WorldOptions::for_preset("tiny", 5), d.string());
      std::atexit([] { fs::remove_all(d); });
    }
    return d.string();
  }();
  return dir;
}

// MANIFEST.json's record count for dataset / split / what.
inline size_t world_count(const std::string& dataset, const std::string& split, const std::string& what) {
  json m = json::parse(read_file(world_dir() + "/MANIFEST.json"));
  return m.at("datasets").at(dataset).at(split).at(what).get<size_t>();
}

}  // namespace loader_test
