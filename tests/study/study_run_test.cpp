// `smoes study` end to end on tests/fixtures/study/tiny.json (all five
// questions, tiny models on the tiny world): killed mid-way and rerun, it
// redoes no finished run; its report holds every question, its numbers are
// the JSON results they came from, and every embedded image decodes.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "core/files.h"
#include "study/stats.h"

#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>

namespace fs = std::filesystem;

namespace {

const std::string kSpec = std::string(SMOES_FIXTURES_DIR) + "/study/tiny.json";

// Starts smoes with `args` in its own process group, output to `log`.
pid_t start(const std::vector<std::string>& args, const std::string& log) {
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    if (!freopen(log.c_str(), "a", stdout) || !freopen(log.c_str(), "a", stderr)) _exit(126);
    std::vector<char*> argv = {const_cast<char*>(SMOES_EXE)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(SMOES_EXE, argv.data());
    _exit(127);
  }
  return pid;
}

int finish(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string unescaped(std::string s) {
  for (auto [from, to] : {std::pair{"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&amp;", "&"}})
    for (size_t i; (i = s.find(from)) != std::string::npos;) s.replace(i, std::string(from).size(), to);
  return s;
}

std::map<std::string, fs::file_time_type> mtimes_under(const fs::path& dir) {
  std::map<std::string, fs::file_time_type> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out[e.path().string()] = e.last_write_time();
  return out;
}

class StudyRun : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir = (fs::temp_directory_path() / ("smoes_study_" + std::to_string(getpid()))).string();
    fs::remove_all(dir);
    fs::create_directories(dir);
    out = dir + "/study";
    log = dir + "/log.txt";
    const std::vector<std::string> args = {"study", "--spec", kSpec, "--world", dir + "/world", "--out", out};
    // Kill the study (and its children) once the shared stage 0 has trained.
    pid_t pid = start(args, log);
    fs::path first;
    for (int i = 0; i < 600 && first.empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      if (fs::exists(out + "/runs"))
        for (const auto& e : fs::directory_iterator(out + "/runs"))
          if (fs::exists(e.path() / "DONE")) first = e.path();
    }
    kill(-pid, SIGKILL);
    finish(pid);
    killed_run = first.string();
    if (!first.empty()) before = mtimes_under(first);
    // The rest runs two at a time (children `smoes study --only`, waiting for their parents).
    auto two_jobs = args;
    two_jobs.insert(two_jobs.end(), {"--jobs", "2"});
    resumed_exit = finish(start(two_jobs, log));
    if (!first.empty()) after = mtimes_under(first);
    std::ofstream(log, std::ios::app) << "=== third invocation\n";
    third_log = dir + "/third.txt";
    third_exit = finish(start(args, third_log));
  }
  static void TearDownTestSuite() { fs::remove_all(dir); }

  static nlohmann::json results() { return nlohmann::json::parse(smoes::read_file(out + "/results.json")); }

  static inline std::string dir, out, log, third_log, killed_run;
  static inline int resumed_exit = -1, third_exit = -1;
  static inline std::map<std::string, fs::file_time_type> before, after;
};

}  // namespace

TEST_F(StudyRun, KilledStudyResumesWithoutRedoingFinishedRuns) {
  ASSERT_FALSE(killed_run.empty()) << "no run finished before the kill; see " << log;
  ASSERT_EQ(resumed_exit, 0) << smoes::read_file(log);
  EXPECT_FALSE(before.empty());
  for (const auto& [file, time] : before) {
    ASSERT_TRUE(after.count(file)) << file << " vanished";
    EXPECT_EQ(after.at(file), time) << file << " was rewritten";
  }
  ASSERT_EQ(third_exit, 0) << smoes::read_file(third_log);
  EXPECT_NE(smoes::read_file(third_log).find("study: 0 runs executed"), std::string::npos)
      << smoes::read_file(third_log);
}

TEST_F(StudyRun, ReportAnswersEveryQuestionWithTheRule) {
  auto r = results();
  ASSERT_EQ(r["answers"].size(), 5u);
  EXPECT_EQ(r["finished_runs"], r["runs"]);
  auto md = smoes::read_file(out + "/report.md");
  EXPECT_NE(md.find("This is a pipeline check, not evidence"), std::string::npos);
  EXPECT_NE(md.find("## Limitations"), std::string::npos);
  for (const auto& a : r["answers"]) {
    auto v = a["verdict"].get<std::string>();
    EXPECT_TRUE(v == "supported" || v == "contradicted" || v == "underpowered") << a["id"] << ": " << v;
    // The claim shown beside the verdict in the headline list is the one that decided it.
    if (!a["verdicts"].empty()) {
      auto front = a["verdicts"][0].get<std::string>();
      EXPECT_EQ(front.substr(front.rfind("-> ") + 3), v) << a["id"] << ": " << front;
    }
    EXPECT_FALSE(a["tables"].empty()) << a["id"];
    EXPECT_NE(md.find(a["title"].get<std::string>()), std::string::npos);
  }
}

TEST_F(StudyRun, EveryMeasurementIsItsFilesValueAndEveryCellIsOnThePage) {
  auto r = results();
  ASSERT_GT(r["measurements"].size(), 50u);
  for (const auto& m : r["measurements"]) {
    auto file = nlohmann::json::parse(smoes::read_file(m["file"]));
    EXPECT_EQ(file.at(nlohmann::json::json_pointer(m["pointer"].get<std::string>())).get<double>(),
              m["value"].get<double>())
        << m.dump();
  }
  // The page's table cells, in order, begin with the answers' cells.
  auto html = smoes::read_file(out + "/report.html");
  std::vector<std::string> page;
  std::regex td("<td>([^<]*)</td>");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), td); it != std::sregex_iterator(); ++it)
    page.push_back(unescaped((*it)[1]));
  size_t i = 0;
  for (const auto& a : r["answers"])
    for (const auto& t : a["tables"])
      for (const auto& row : t["rows"])
        for (const auto& cell : row) {
          ASSERT_LT(i, page.size());
          EXPECT_EQ(page[i++], cell.get<std::string>());
        }
  // One cell recomputed from its measurements: RQ5's top-k accuracy on vqa_cp
  // is the mean over seeds of the values read from the eval files.
  double sum = 0;
  int n = 0;
  for (const auto& m : r["measurements"])
    if (m["model"] == "topk" && m["pointer"] == "/metrics/vqa_cp/accuracy" &&
        m["file"].get<std::string>().find("vqa_cp+aokvqa_da") != std::string::npos) {
      sum += m["value"].get<double>();
      ++n;
    }
  ASSERT_EQ(n, 2);
  const auto& cell = r["answers"][4]["tables"][0]["rows"][0][1].get<std::string>();
  EXPECT_EQ(cell.substr(0, cell.find(' ')), smoes::study::format(sum / n));
}

TEST_F(StudyRun, EveryEmbeddedImageDecodes) {
  auto html = smoes::read_file(out + "/report.html");
  // (std::regex recurses per character: a search, not a regex, over the long base64 runs.)
  const std::string tag = "<img alt=";
  const std::string prefix = "src=\"data:image/png;base64,";
  int images = 0;
  for (size_t at = html.find(tag); at != std::string::npos; at = html.find(tag, at + 1)) {
    size_t start = html.find(prefix, at);
    ASSERT_NE(start, std::string::npos) << "an <img> without embedded PNG data";
    start += prefix.size();
    std::string b64 = html.substr(start, html.find('"', start) - start);
    std::string bytes(b64.size() / 4 * 3, '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(bytes.data()),
                            reinterpret_cast<const unsigned char*>(b64.data()), int(b64.size()));
    ASSERT_GT(n, 0);
    int w = 0, h = 0, c = 0;
    unsigned char* px = stbi_load_from_memory(reinterpret_cast<unsigned char*>(bytes.data()), n, &w, &h, &c, 0);
    EXPECT_NE(px, nullptr) << "image " << images << " does not decode";
    EXPECT_GT(w, 100);
    EXPECT_GT(h, 100);
    stbi_image_free(px);
    ++images;
  }
  EXPECT_EQ(html.find("<img src=\"figures/"), std::string::npos);  // nothing left as a file link
  EXPECT_GE(images, 5);  // learning curves, heatmaps, MSI per layer, degradation, accuracy vs GFLOPs
}

TEST_F(StudyRun, PlanListsOneCommandPerRun) {
  const std::vector<std::string> args = {"study", "--spec", kSpec, "--world", dir + "/world", "--out", out, "--plan"};
  ASSERT_EQ(finish(start(args, dir + "/plan_log.txt")), 0);
  auto plan = smoes::read_file(out + "/plan.txt");
  int lines = 0;
  std::istringstream in(plan);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#') {
      EXPECT_NE(line.find(" study --spec "), std::string::npos);
      EXPECT_NE(line.find(" --only "), std::string::npos);
      EXPECT_NE(line.find(" --world " + dir + "/world"), std::string::npos);  // the children read the same data
      ++lines;
    }
  EXPECT_EQ(lines, results()["runs"].get<int>());
}

// A study folder carried without checkpoints (results/ keeps only the small
// files): a parent whose child has yet to train trains again, reproducing its
// first training's final loss; its other children, trained and measured, are
// not redone.
TEST_F(StudyRun, ParentCarriedWithoutCheckpointsTrainsAgainForItsChild) {
  ASSERT_FALSE(killed_run.empty());
  const fs::path parent = killed_run;  // the shared stage 0, trained before the kill
  std::vector<fs::path> children;
  for (const auto& e : fs::directory_iterator(out + "/runs")) {
    auto cfg = nlohmann::json::parse(smoes::read_file((e.path() / "study_config.json").string()));
    if (cfg["train"]["init_from"] == parent.string()) children.push_back(e.path());
  }
  ASSERT_GE(children.size(), 2u) << "the stage 0 of " << kSpec << " should serve several runs";
  const fs::path child = children.front();
  fs::remove_all(parent / "checkpoints");
  fs::remove_all(child);
  std::map<std::string, fs::file_time_type> kept;
  for (size_t i = 1; i < children.size(); ++i) kept.merge(mtimes_under(children[i]));

  // One at a time, as the parent first trained (the thread count is part of what reproduces it).
  const std::vector<std::string> args = {"study", "--spec", kSpec, "--world", dir + "/world", "--out", out};
  const auto carried_log = dir + "/carried.txt";
  ASSERT_EQ(finish(start(args, carried_log)), 0) << smoes::read_file(carried_log);
  EXPECT_NE(smoes::read_file(carried_log).find("study: 2 runs executed"), std::string::npos)
      << smoes::read_file(carried_log);

  auto retrain = nlohmann::json::parse(smoes::read_file((parent / "study_retrain.json").string()));
  EXPECT_TRUE(retrain["same_final_loss"].get<bool>()) << retrain.dump();
  EXPECT_FALSE(retrain["first_final"].is_null());
  EXPECT_TRUE(fs::exists(parent / "checkpoints"));
  EXPECT_TRUE(fs::exists(child / "DONE"));
  EXPECT_FALSE(kept.empty());
  for (const auto& [file, time] : kept) EXPECT_EQ(fs::last_write_time(file), time) << file << " was redone";
}
