// SNLI-VE loader on hand-written JSON-lines fixtures in the published format
// (tests/fixtures/data/snli_ve); images are tiny files in a temp dir.
#include "data/snli_ve.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "core/files.h"
#include "world/generate.h"
#include "world/render.h"

using namespace smoes;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string fixture(const std::string& rel) { return std::string(SMOES_FIXTURES_DIR) + "/data/" + rel; }

std::string temp_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("smoes_snlive_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

// Plain writes: the fuzz tests write thousands of files (no fsync needed).
void write_text(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

void write_png(const std::string& path) {
  fs::create_directories(fs::path(path).parent_path());
  write_text(path, world::encode_png(std::vector<uint8_t>(2 * 2 * 3, 128), 2, 2));
}

template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected smoes::Error";
  return "";
}

data::Example make(std::string task, std::string id, std::vector<std::string> images, std::string prompt,
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

void expect_same(const data::Example& got, const data::Example& want) {
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
void collect_pointers(const json& v, const std::string& p, std::vector<std::string>& out) {
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
std::vector<json> mutations(const json& doc) {
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
json read_lines(const std::string& path) {
  json lines = json::array();
  std::istringstream in(read_file(path));
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(json::parse(line));
  return lines;
}

// Writes `doc` as JSON lines (one line per item of a list, else one line).
void write_lines(const std::string& path, const json& doc) {
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
      for (const auto& ex : load(true, nullptr))
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

// Flickr30K images: 3416050480 as .jpg, 2267923837 as .png.
std::string flickr_images(const std::string& name) {
  std::string dir = temp_dir(name) + "/flickr30k_images";
  write_png(dir + "/3416050480.jpg");
  write_png(dir + "/2267923837.png");
  return dir;
}

const std::vector<std::string> kLabels = {"entailment", "neutral", "contradiction"};
const std::string kPremise = "A person on a horse jumps over a broken down airplane.";

// A tiny embedded world, which writes this format: generated once per test
// process (shared by the QA loader tests of this process), removed at exit.
const std::string& world_dir() {
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
size_t world_count(const std::string& dataset, const std::string& split, const std::string& what) {
  json m = json::parse(read_file(world_dir() + "/MANIFEST.json"));
  return m.at("datasets").at(dataset).at(split).at(what).get<size_t>();
}

}  // namespace

TEST(SnliVe, ReadsJsonLines) {
  std::string images = flickr_images("read");
  auto got = data::load_snli_ve(fixture("snli_ve/snli_ve_dev.jsonl"), images);
  ASSERT_EQ(got.size(), 3u);
  expect_same(got[0],
              make("snli_ve", "3416050480.jpg#4r1n", {images + "/3416050480.jpg"},
                   "<image>\nHypothesis: A person is training his horse for a competition.\nDoes the image "
                   "entail the hypothesis, contradict it, or neither? Answer entailment, neutral or contradiction.",
                   {"neutral"}, kLabels, 1, {{"premise", kPremise}}));
  expect_same(got[1], make("snli_ve", "3416050480.jpg#4r1c", {images + "/3416050480.jpg"},
                           data::snli_ve_prompt("A person is at a diner, ordering an omelette."), {"contradiction"},
                           kLabels, 2, {{"premise", kPremise}}));
  // No sentence1, and a numeric Flickr30K_ID.
  expect_same(got[2], make("snli_ve", "2267923837.jpg#2r1e", {images + "/2267923837.png"},
                           data::snli_ve_prompt("There are children present."), {"entailment"}, kLabels, 0, {}));
  EXPECT_EQ(data::kSnliVeChoices, kLabels);
}

TEST(SnliVe, StrictModeNamesFileLineAndField) {
  std::string images = flickr_images("strict");
  std::string msg = error_of([&] { data::load_snli_ve(fixture("snli_ve/bad.jsonl"), images); });
  EXPECT_NE(msg.find("bad.jsonl: line 2 (pairID 1.jpg#0r1x): field 'gold_label': unknown label \"-\" (expected "
                     "entailment, neutral or contradiction)"),
            std::string::npos)
      << msg;
  struct Case {
    std::string line, expected;
  };
  const std::vector<Case> cases = {
      {R"({"gold_label": "neutral", "pairID": "p", "Flickr30K_ID": "3416050480"})",
       "x.jsonl: line 2 (pairID p): field 'sentence2': missing"},
      {R"({"gold_label": "neutral", "sentence2": "h", "Flickr30K_ID": "3416050480"})",
       "x.jsonl: line 2: field 'pairID': missing"},
      {R"({"gold_label": "neutral", "pairID": "p", "sentence2": "h", "Flickr30K_ID": 2.5})",
       "x.jsonl: line 2 (pairID p): field 'Flickr30K_ID': expected a string or an integer, got number"},
      {R"({"gold_label": ["neutral"], "pairID": "p", "sentence2": "h", "Flickr30K_ID": "3416050480"})",
       "x.jsonl: line 2 (pairID p): field 'gold_label': expected a string, got array"},
      {R"({"gold_label": "neutral", "pairID": "p", "sentence2": "h", "sentence1": {}, "Flickr30K_ID": "3416050480"})",
       "x.jsonl: line 2 (pairID p): field 'sentence1': expected a string, got object"},
      {R"({"gold_label": "neutral", "pairID": "p", "sentence2": " ", "Flickr30K_ID": "3416050480"})",
       "x.jsonl: line 2 (pairID p): field 'sentence2': empty"},
      {R"({"gold_label": "neutral", "pairID": "p", "sentence2": "h", "Flickr30K_ID": "123"})",
       "x.jsonl: line 2 (pairID p): field 'Flickr30K_ID': image file not found: " + images +
           "/123.jpg (also tried: " + images + "/123.png)"},
      {"{\"gold_label\": ", "x.jsonl: line 2: not valid JSON: "},
  };
  std::string good = read_lines(fixture("snli_ve/snli_ve_dev.jsonl"))[0].dump();
  for (size_t i = 0; i < cases.size(); ++i) {
    std::string file = temp_dir("strict_case") + "/x.jsonl";
    write_text(file, good + "\n" + cases[i].line + "\n");
    msg = error_of([&] { data::load_snli_ve(file, images); });
    EXPECT_NE(msg.find(cases[i].expected), std::string::npos) << "case " << i << ": " << msg;
  }
}

TEST(SnliVe, TolerantModeSkipsAndCounts) {
  std::string images = flickr_images("tolerant");
  data::LoadReport report;
  auto got = data::load_snli_ve(fixture("snli_ve/bad.jsonl"), images, /*strict=*/false, &report);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].id, "1.jpg#0r1e");
  EXPECT_EQ(got[0].answer_index, 0);
  EXPECT_EQ(report.records, 7u);
  EXPECT_EQ(report.skipped, 6u);
  EXPECT_EQ(report.reasons["field 'gold_label': unknown label \"-\" (expected entailment, neutral or contradiction)"],
            1u);
  EXPECT_EQ(report.reasons["field 'sentence2': missing"], 1u);
  EXPECT_EQ(report.reasons["field 'Flickr30K_ID': image file not found"], 1u);
  EXPECT_EQ(report.reasons["field 'sentence2': expected a string, got array"], 1u);
  EXPECT_EQ(report.reasons["field 'sentence1': expected a string, got number"], 1u);
  EXPECT_EQ(report.reasons["not valid JSON"], 1u);
}

TEST(SnliVe, ManifestIsChecked) {
  std::string root = temp_dir("manifest");
  std::string images = flickr_images("manifest_images");
  std::string file = root + "/snli_ve/snli_ve_dev.jsonl";
  fs::create_directories(root + "/snli_ve");
  write_text(file, read_file(fixture("snli_ve/snli_ve_dev.jsonl")));
  write_text(root + "/MANIFEST.json", json{{"files", {{"snli_ve/snli_ve_dev.jsonl", sha256_file(file)}}}}.dump());
  EXPECT_EQ(data::load_snli_ve(file, images).size(), 3u);
  write_text(file, read_file(file) + "\n");
  EXPECT_NE(error_of([&] { data::load_snli_ve(file, images); }).find("snli_ve_dev.jsonl: SHA-256 does not match"),
            std::string::npos);
}

TEST(SnliVe, NeverCrashesOnAnyJsonShape) {
  std::string images = flickr_images("fuzz");
  std::string file = temp_dir("fuzz_file") + "/snli_ve_dev.jsonl";
  expect_never_crashes(fixture("snli_ve/snli_ve_dev.jsonl"), file,
                       [&](bool strict, data::LoadReport* r) { return data::load_snli_ve(file, images, strict, r); });
}

TEST(SnliVe, ReadsTheEmbeddedWorld) {
  const std::string root = world_dir();
  for (std::string s : {"train", "dev", "test"}) {
    auto got = data::load_snli_ve(root + "/snli_ve/snli_ve_" + s + ".jsonl", root + "/snli_ve/flickr30k_images");
    ASSERT_EQ(got.size(), world_count("snli_ve", s, "pairs")) << s;
    std::map<std::string, size_t> per_label;
    for (const auto& ex : got) {
      ++per_label[ex.choices.at(ex.answer_index)];
      EXPECT_TRUE(fs::exists(ex.image_paths.at(0)));
    }
    for (const auto& label : kLabels)
      EXPECT_EQ(per_label[label], world_count("snli_ve", s, label)) << s << " " << label;
  }
}
