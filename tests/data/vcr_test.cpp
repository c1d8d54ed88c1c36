// VCR loader on hand-written JSON-lines fixtures in the published format, with
// object references in the tokens (tests/fixtures/data/vcr); images are tiny
// files in a temp dir.
#include "data/vcr.h"

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
  auto dir = fs::temp_directory_path() / ("smoes_vcr_" + name);
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

const std::string kImg0 = "lsmdc_3015_CHARLIE_ST_CLOUD/3015_CHARLIE_ST_CLOUD_00.23.57.935-00.24.00.783@0";
const std::string kImg1 = "lsmdc_1054_Harry_Potter/1054_Harry_Potter_00.01.01.001@5";

// vcr1images: the first movie frame as .jpg (as named in the file), the
// second and the bad-fixture frame as .png (the world writes PNGs).
std::string vcr_images(const std::string& name) {
  std::string dir = temp_dir(name) + "/vcr1images";
  write_png(dir + "/" + kImg0 + ".jpg");
  write_png(dir + "/" + kImg1 + ".png");
  write_png(dir + "/lsmdc_x/x@0.png");
  return dir;
}

std::string render(const json& tokens, const std::vector<std::string>& objects) {
  std::string text, problem;
  if (!data::render_vcr_tokens(tokens, objects, text, problem)) return "ERROR: " + problem;
  return text;
}

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

TEST(Vcr, RendersTokensAndObjectReferences) {
  const std::vector<std::string> objects = {"person", "person", "horse"};
  EXPECT_EQ(render(json::parse(R"(["Why", "is", [0], "smiling", "?"])"), objects), "Why is person0 smiling?");
  EXPECT_EQ(render(json::parse(R"([[0, 2], "are", "friends", "."])"), objects), "person0 and horse2 are friends.");
  EXPECT_EQ(
      render(json::parse(R"j([[0, 1, 2], "(", "all", ")", "do", "n't", "know", "it", "'s", "late", ",", "yes", "!"])j"),
             objects),
      "person0, person1 and horse2 (all) don't know it's late, yes!");
  EXPECT_EQ(render(json::parse(R"(["They", "don", "'t", "pay", "$", "5", "."])"), objects), "They don't pay $5.");
  EXPECT_EQ(render(json::parse(R"(["a", [0, 3]])"), objects),
            "ERROR: object reference [0,3]: 3 is not an index into the 3 objects");
  EXPECT_EQ(render(json::parse(R"(["a", [-1]])"), objects),
            "ERROR: object reference [-1]: -1 is not an index into the 3 objects");
  EXPECT_EQ(render(json::parse(R"(["a", ["0"]])"), objects),
            "ERROR: object reference [\"0\"]: \"0\" is not an index into the 3 objects");
  EXPECT_EQ(render(json::parse(R"(["a", []])"), objects), "ERROR: empty object reference");
  EXPECT_EQ(render(json::parse(R"(["a", 1])"), objects),
            "ERROR: a token must be a word or a list of object indices, got number");
  EXPECT_EQ(render(json::parse(R"([])"), objects), "ERROR: empty");
  EXPECT_EQ(render(json::parse(R"("Why?")"), objects), "ERROR: expected a list of tokens, got string");
}

TEST(Vcr, DeeplyNestedOrHugeValuesAreReportedBriefly) {
  std::string images = vcr_images("deep");
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  std::string file = temp_dir("deep_file") + "/val.jsonl";
  write_text(file, R"({"annot_id": "d", "img_fn": "lsmdc_x/x@0.jpg", "objects": ["person"], "question": ["Is", [0, )" +
                       deep + R"(], "ok", "?"]})" + "\n");
  std::string msg = error_of([&] { data::load_vcr(file, images); });
  EXPECT_NE(
      msg.find("line 1 (annot_id d): field 'question': object reference [0,[...]]: [...] is not an index into the "
               "1 objects"),
      std::string::npos)
      << msg.substr(0, 300);
  write_text(file, R"({"annot_id": "d", "img_fn": "lsmdc_x/x@0.jpg", "objects": ["person"], "question": [[")" +
                       std::string(1000, 'x') + R"("]]})" + "\n");
  msg = error_of([&] { data::load_vcr(file, images); });
  EXPECT_LT(msg.size(), 300u) << msg;
}

TEST(Vcr, ReadsJsonLinesIntoQaAndQarExamples) {
  std::string images = vcr_images("read");
  auto got = data::load_vcr(fixture("vcr/val.jsonl"), images);
  ASSERT_EQ(got.size(), 4u);
  const std::string img0 = images + "/" + kImg0 + ".jpg", img1 = images + "/" + kImg1 + ".png";
  const std::map<std::string, std::string> meta0 = {{"metadata_fn", images + "/" + kImg0 + ".json"}};
  const std::map<std::string, std::string> meta1 = {{"metadata_fn", images + "/" + kImg1 + ".json"}};
  const std::vector<std::string> answers0 = {"Yes because the person sitting next to her is her friend.",
                                             "No she does not.", "Yes, she is wearing something with thin straps.",
                                             "Yes, she is cold."};
  const std::vector<std::string> rationales0 = {"There is snow on the ground, and she is wearing a coat and hat.",
                                                "She is standing with her arms crossed and looks disturbed.",
                                                "She is sitting very close to person1.",
                                                "Her face is flushed and she's staring at person0 and person1."};
  expect_same(got[0], make("vcr_qa", "val-0", {img0}, "<image>\nQuestion: Does person2 feel comfortable?\nAnswer:",
                           {"No she does not."}, answers0, 1, meta0));
  expect_same(got[1], make("vcr_qar", "val-0", {img0},
                           "<image>\nQuestion: Does person2 feel comfortable?\nAnswer: No she does not.\nRationale:",
                           {rationales0[1]}, rationales0, 1, meta0));
  const std::string q1 = "Why is person0, person1 and dog2 (all of them) here?";
  const std::vector<std::string> answers1 = {"They are waiting for dog2.", "They don't know.",
                                             "Because person1 called them.", "It's raining."};
  const std::vector<std::string> rationales1 = {"person1 is holding a phone.", "The dog is asleep.", "Nobody is here.",
                                                "It is sunny."};
  expect_same(got[2], make("vcr_qa", "val-1", {img1}, data::vcr_qa_prompt(q1), {answers1[2]}, answers1, 2, meta1));
  expect_same(got[3], make("vcr_qar", "val-1", {img1}, data::vcr_qar_prompt(q1, answers1[2]), {rationales1[0]},
                           rationales1, 0, meta1));
}

TEST(Vcr, TestSplitWithoutLabelsGivesOnlyQaWithNoAnswer) {
  std::string images = vcr_images("test");
  auto got = data::load_vcr(fixture("vcr/test.jsonl"), images);
  ASSERT_EQ(got.size(), 1u);
  expect_same(
      got[0],
      make("vcr_qa", "test-0", {images + "/" + kImg1 + ".png"}, data::vcr_qa_prompt("Is person0 riding horse1?"), {},
           {"Yes.", "No.", "Maybe.", "Only later."}, -1, {{"metadata_fn", images + "/" + kImg1 + ".json"}}));
}

TEST(Vcr, StrictModeNamesFileLineAndField) {
  std::string images = vcr_images("strict");
  std::string msg = error_of([&] { data::load_vcr(fixture("vcr/bad.jsonl"), images); });
  EXPECT_NE(
      msg.find("bad.jsonl: line 2 (annot_id bad-1): field 'question': object reference [1]: 1 is not an index into the "
               "1 objects"),
      std::string::npos)
      << msg;
  const std::string f = "val.jsonl: line 2 (annot_id val-1): ";
  struct Case {
    std::function<void(json&)> mutate;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {[](json& r) { r["answer_choices"][3] = "It's raining."; },
       f + "field 'answer_choices[3]': expected a list of tokens, got string"},
      {[](json& r) { r["answer_choices"][0][4] = {7}; },
       f + "field 'answer_choices[0]': object reference [7]: 7 is not an index into the 3 objects"},
      {[](json& r) { r["rationale_choices"].erase(0); }, f + "field 'rationale_choices': expected 4 choices, got 3"},
      {[](json& r) { r["rationale_choices"] = json::object(); },
       f + "field 'rationale_choices': expected a list of 4 choices, got object"},
      {[](json& r) { r["rationale_label"] = -1; }, f + "field 'rationale_label': must be in [0, 4), got -1"},
      {[](json& r) { r["answer_label"] = 1.0; }, f + "field 'answer_label': expected an integer, got number"},
      {[](json& r) { r["objects"][2] = 2; }, f + "field 'objects[2]': expected a string, got number"},
      {[](json& r) { r.erase("question"); }, f + "field 'question': missing"},
      {[](json& r) { r.erase("img_fn"); }, f + "field 'img_fn': missing"},
      {[](json& r) { r["metadata_fn"] = 3; }, f + "field 'metadata_fn': expected a string, got number"},
      {[](json& r) { r.erase("annot_id"); }, "val.jsonl: line 2: field 'annot_id': missing"},
      {[&](json& r) { r["img_fn"] = "lsmdc_y/y@1.jpg"; }, f + "field 'img_fn': image file not found: " + images +
                                                              "/lsmdc_y/y@1.jpg (also tried: " + images +
                                                              "/lsmdc_y/y@1.png)"},
  };
  json lines = read_lines(fixture("vcr/val.jsonl"));
  for (size_t i = 0; i < cases.size(); ++i) {
    std::string file = temp_dir("strict_case") + "/val.jsonl";
    json m = lines;
    cases[i].mutate(m[1]);
    write_lines(file, m);
    msg = error_of([&] { data::load_vcr(file, images); });
    EXPECT_NE(msg.find(cases[i].expected), std::string::npos) << "case " << i << ": " << msg;
  }
}

TEST(Vcr, TolerantModeSkipsAndCounts) {
  std::string images = vcr_images("tolerant");
  data::LoadReport report;
  auto got = data::load_vcr(fixture("vcr/bad.jsonl"), images, /*strict=*/false, &report);
  ASSERT_EQ(got.size(), 2u);  // bad-0 as vcr_qa and vcr_qar
  EXPECT_EQ(got[0].id, "bad-0");
  EXPECT_EQ(got[1].task, "vcr_qar");
  EXPECT_EQ(got[1].prompt, data::vcr_qar_prompt("Who is person0?", "a"));
  EXPECT_EQ(got[1].meta.size(), 0u);  // no metadata_fn
  EXPECT_EQ(report.records, 9u);
  EXPECT_EQ(report.skipped, 8u);
  EXPECT_EQ(report.reasons["field 'question': object reference [1]: 1 is not an index into the 1 objects"], 1u);
  EXPECT_EQ(report.reasons["field 'answer_choices': expected 4 choices, got 3"], 1u);
  EXPECT_EQ(report.reasons["field 'answer_label': must be in [0, 4), got 4"], 1u);
  EXPECT_EQ(report.reasons["field 'img_fn': image file not found"], 1u);
  EXPECT_EQ(report.reasons["field 'question': a token must be a word or a list of object indices, got number"], 1u);
  EXPECT_EQ(report.reasons["field 'objects': expected a list, got string"], 1u);
  EXPECT_EQ(report.reasons["field 'annot_id': missing"], 1u);
  EXPECT_EQ(report.reasons["not valid JSON"], 1u);
}

TEST(Vcr, ManifestIsChecked) {
  std::string root = temp_dir("manifest");
  std::string images = vcr_images("manifest_images");
  std::string file = root + "/vcr/val.jsonl";
  fs::create_directories(root + "/vcr");
  write_text(file, read_file(fixture("vcr/val.jsonl")));
  write_text(root + "/MANIFEST.json", json{{"files", {{"vcr/val.jsonl", sha256_file(file)}}}}.dump());
  EXPECT_EQ(data::load_vcr(file, images).size(), 4u);
  write_text(file, read_file(file) + "\n");
  EXPECT_NE(error_of([&] { data::load_vcr(file, images); }).find("val.jsonl: SHA-256 does not match"),
            std::string::npos);
}

TEST(Vcr, NeverCrashesOnAnyJsonShape) {
  std::string images = vcr_images("fuzz");
  std::string file = temp_dir("fuzz_file") + "/val.jsonl";
  expect_never_crashes(fixture("vcr/val.jsonl"), file,
                       [&](bool strict, data::LoadReport* r) { return data::load_vcr(file, images, strict, r); });
}

TEST(Vcr, ReadsTheEmbeddedWorld) {
  const std::string root = world_dir();
  for (std::string s : {"train", "val"}) {
    auto got = data::load_vcr(root + "/vcr/" + s + ".jsonl", root + "/vcr/vcr1images");
    ASSERT_EQ(got.size(), 2 * world_count("vcr", s, "questions")) << s;
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].task, i % 2 ? "vcr_qar" : "vcr_qa");
      EXPECT_EQ(got[i].choices.size(), 4u);
      EXPECT_GE(got[i].answer_index, 0);
      EXPECT_TRUE(fs::exists(got[i].image_paths.at(0)));
      EXPECT_TRUE(fs::exists(got[i].meta.at("metadata_fn")));
    }
  }
}
