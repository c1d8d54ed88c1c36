// GQA loader on a hand-written fixture in the published format (a dict keyed by
// question id, tests/fixtures/data/gqa); images are tiny files in a temp dir.
#include "data/gqa.h"

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
#include "data/vqa.h"
#include "world/generate.h"
#include "world/render.h"

using namespace smoes;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string fixture(const std::string& rel) { return std::string(SMOES_FIXTURES_DIR) + "/data/" + rel; }

std::string temp_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("smoes_gqa_" + name);
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

const std::string kFile = "testdev_balanced_questions.json";

// GQA images: n15342 as .png, 2354786 as .jpg.
std::string gqa_images(const std::string& name) {
  std::string dir = temp_dir(name) + "/images";
  write_png(dir + "/n15342.png");
  write_png(dir + "/2354786.jpg");
  return dir;
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

TEST(Gqa, ReadsTheQuestionDictInKeyOrder) {
  std::string images = gqa_images("read");
  auto got = data::load_gqa(fixture("gqa/" + kFile), images);
  ASSERT_EQ(got.size(), 3u);
  expect_same(got[0],
              make("gqa", "0791239", {images + "/2354786.jpg"}, data::vqa_prompt("Is the cube blue?"), {"no"}, {}, -1,
                   {{"structural", "verify"},
                    {"semantic", "attr"},
                    {"detailed", "verifyAttrs"},
                    {"fullAnswer", "No, the cube is green."}}));
  // A record without an answer (as in the test / submission files).
  expect_same(got[1], make("gqa", "201307251", {images + "/n15342.png"},
                           data::vqa_prompt("Is the ball to the left of the cube?"), {}, {}, -1, {}));
  expect_same(got[2], make("gqa", "20968979", {images + "/n15342.png"}, data::vqa_prompt("What color is the ball?"),
                           {"red"}, {}, -1,
                           {{"structural", "query"},
                            {"semantic", "attr"},
                            {"detailed", "colorObj"},
                            {"fullAnswer", "The ball is red."}}));
}

TEST(Gqa, StrictModeNamesFileRecordAndField) {
  std::string images = gqa_images("strict");
  struct Case {
    std::function<void(json&)> mutate;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {[](json& d) { d["20968979"].erase("question"); }, kFile + ": question \"20968979\": field 'question': missing"},
      {[](json& d) { d["20968979"]["imageId"] = json::array(); },
       kFile + ": question \"20968979\": field 'imageId': expected a string or an integer, got array"},
      {[](json& d) { d["0791239"]["answer"] = 1; },
       kFile + ": question \"0791239\": field 'answer': expected a string, got number"},
      {[](json& d) { d["0791239"]["fullAnswer"] = false; },
       kFile + ": question \"0791239\": field 'fullAnswer': expected a string, got boolean"},
      {[](json& d) { d["0791239"]["types"]["semantic"] = json::object(); },
       kFile + ": question \"0791239\": field 'types.semantic': expected a string, got object"},
      {[](json& d) { d["0791239"]["types"] = "verify"; },
       kFile + ": question \"0791239\": field 'types': expected an object, got string"},
      {[](json& d) { d["0791239"] = 5; },
       kFile + ": question \"0791239\": field 'imageId': missing (the record is not an object, got number)"},
      {[&](json& d) { d["20968979"]["imageId"] = "nope"; },
       kFile + ": question \"20968979\": field 'imageId': image file not found: " + images +
           "/nope.jpg (also tried: " + images + "/nope.png)"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    std::string file = temp_dir("strict_case") + "/" + kFile;
    json doc = json::parse(read_file(fixture("gqa/" + kFile)));
    cases[i].mutate(doc);
    write_text(file, doc.dump());
    std::string msg = error_of([&] { data::load_gqa(file, images); });
    EXPECT_NE(msg.find(cases[i].expected), std::string::npos) << "case " << i << ": " << msg;
  }
}

TEST(Gqa, TolerantModeSkipsAndCounts) {
  std::string images = gqa_images("tolerant");
  data::LoadReport report;
  auto got = data::load_gqa(fixture("gqa/bad_balanced_questions.json"), images, /*strict=*/false, &report);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].id, "1");
  EXPECT_EQ(got[0].targets, std::vector<std::string>{"red"});
  EXPECT_EQ(report.records, 7u);
  EXPECT_EQ(report.skipped, 6u);
  EXPECT_EQ(report.reasons["field 'imageId': image file not found"], 1u);
  EXPECT_EQ(report.reasons["field 'question': missing"], 1u);
  EXPECT_EQ(report.reasons["field 'answer': expected a string, got number"], 1u);
  EXPECT_EQ(report.reasons["field 'types': expected an object, got string"], 1u);
  EXPECT_EQ(report.reasons["field 'types.structural': expected a string, got number"], 1u);
  EXPECT_EQ(report.reasons["field 'imageId': missing (the record is not an object, got array)"], 1u);
  std::string msg = error_of([&] { data::load_gqa(fixture("gqa/bad_balanced_questions.json"), images); });
  EXPECT_NE(msg.find("bad_balanced_questions.json: question \"2\": field 'imageId': image file not found: " + images +
                     "/5.jpg"),
            std::string::npos)
      << msg;
}

TEST(Gqa, WrongShapeNotJsonAndManifest) {
  std::string root = temp_dir("shape");
  std::string images = gqa_images("shape_images");
  std::string file = root + "/gqa/questions/" + kFile;  // the manifest is two levels up, as in the world
  fs::create_directories(root + "/gqa/questions");
  write_text(file, "[{\"question\": \"a list is not GQA\"}]");
  data::LoadReport report;
  EXPECT_NE(error_of([&] {
              data::load_gqa(file, images, false, &report);
            }).find(kFile + ": expected a JSON object mapping question ids to questions (GQA format)"),
            std::string::npos);
  write_text(file, "{\"1\": ");
  EXPECT_NE(error_of([&] { data::load_gqa(file, images, false, &report); }).find("not valid JSON"), std::string::npos);

  write_text(file, read_file(fixture("gqa/" + kFile)));
  write_text(root + "/MANIFEST.json", json{{"files", {{"gqa/questions/" + kFile, sha256_file(file)}}}}.dump());
  EXPECT_EQ(data::load_gqa(file, images).size(), 3u);
  write_text(file, read_file(file) + "\n");
  EXPECT_NE(error_of([&] { data::load_gqa(file, images); }).find(kFile + ": SHA-256 does not match"),
            std::string::npos);
}

TEST(Gqa, NeverCrashesOnAnyJsonShape) {
  std::string images = gqa_images("fuzz");
  std::string file = temp_dir("fuzz_file") + "/" + kFile;
  size_t runs = 0;
  for (const json& m : mutations(json::parse(read_file(fixture("gqa/" + kFile))))) {
    write_text(file, m.dump());
    try {
      data::load_gqa(file, images);
    } catch (const Error&) {
    }
    data::LoadReport report;
    try {
      data::load_gqa(file, images, false, &report);
    } catch (const Error&) {
      EXPECT_FALSE(m.is_object()) << "tolerant mode threw on an object: " << m.dump();
    }
    ++runs;
  }
  EXPECT_GT(runs, 100u);
}

TEST(Gqa, ReadsTheEmbeddedWorld) {
  const std::string root = world_dir();
  for (std::string s : {"train", "val", "testdev"}) {
    auto got = data::load_gqa(root + "/gqa/questions/" + s + "_balanced_questions.json", root + "/gqa/images");
    ASSERT_EQ(got.size(), world_count("gqa", s, "questions")) << s;
    for (const auto& ex : got) {
      EXPECT_EQ(ex.targets.size(), 1u);
      EXPECT_EQ(ex.meta.size(), 4u);  // structural, semantic, detailed, fullAnswer
      EXPECT_TRUE(fs::exists(ex.image_paths.at(0)));
    }
  }
}
