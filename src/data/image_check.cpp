#include "data/image_check.h"

#include <algorithm>
#include <filesystem>
#include <unordered_map>

#include "core/error.h"
#include "data/image_io.h"

namespace smoes::data {
namespace fs = std::filesystem;
namespace {

struct Problem {
  std::string reason;   // "" when the image is fine
  std::string message;  // "<file>: <why>"
};

Problem problem_of(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return {"image file not found", path + ": image file not found"};
  try {
    probe_image(path);
    return {};
  } catch (const Error& e) {
    return {"image not readable", e.what()};
  }
}

}  // namespace

ImageCheck check_images(std::vector<Example>& examples, bool strict, LoadReport* report) {
  ImageCheck check;
  std::unordered_map<std::string, Problem> seen;
  auto probed = [&](const std::string& path) -> const Problem& {
    auto [it, fresh] = seen.try_emplace(path);
    if (fresh) {
      it->second = problem_of(path);
      ++check.images;
      if (!it->second.reason.empty()) ++(it->second.reason == "image file not found" ? check.missing : check.bad);
    }
    return it->second;
  };
  // Every image is probed (so the counts cover them all); the first bad one names the example's problem.
  auto has_bad_image = [&](const Example& ex) {
    const Problem* first = nullptr;
    for (const auto& path : ex.image_paths) {
      const Problem& p = probed(path);
      if (!first && !p.reason.empty()) first = &p;
    }
    if (!first) return false;
    const std::string message = ex.task + " " + ex.id + ": " + first->message;
    if (check.first_problems.size() < 10) check.first_problems.push_back(message);
    if (report) report->skip(first->reason, message);
    return true;
  };
  const size_t before = examples.size();
  examples.erase(std::remove_if(examples.begin(), examples.end(), has_bad_image), examples.end());
  if (strict && examples.size() < before) {
    std::string msg = std::to_string(before - examples.size()) + " example(s) refer to " +
                      std::to_string(check.missing) + " missing and " + std::to_string(check.bad) +
                      " unreadable image file(s):";
    for (const auto& p : check.first_problems) msg += "\n  " + p;
    if (before - examples.size() > check.first_problems.size()) msg += "\n  ...";
    throw Error(msg);
  }
  return check;
}

}  // namespace smoes::data
