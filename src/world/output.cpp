#include "world/output.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <thread>

#include "core/error.h"
#include "core/files.h"
#include "core/log.h"
#include "world/render.h"

namespace smoes::world {

const char* const kGeneratorVersion = "0.3.0";

namespace {

void write_plain(const std::string& path, const std::string& bytes) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(path + ": cannot create: " + std::strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::string why = std::strerror(errno);
      ::close(fd);
      throw Error(path + ": write failed: " + why);
    }
    done += size_t(n);
  }
  if (::close(fd) != 0) throw Error(path + ": close failed: " + std::strerror(errno));
}

}  // namespace

void Writer::write(const std::string& rel, const std::string& bytes) {
  write_plain((std::filesystem::path(root_) / rel).string(), bytes);
  std::string hash = sha256_hex(bytes);
  std::lock_guard<std::mutex> lock(mutex_);
  files_[rel] = std::move(hash);
}

void Writer::write_jsonl(const std::string& rel, const std::vector<nlohmann::json>& lines) {
  std::string text;
  for (const auto& line : lines) text += line.dump() + "\n";
  write(rel, text);
}

void Writer::count(const std::string& dataset, const std::string& split, const std::string& what, int64_t n) {
  std::lock_guard<std::mutex> lock(mutex_);
  counts_[dataset][split][what] = n;
}

void Writer::note(const std::string& dataset, const std::string& key, const nlohmann::json& value) {
  std::lock_guard<std::mutex> lock(mutex_);
  counts_[dataset][key] = value;
}

void Writer::sync() const {
  int fd = ::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::syncfs(fd);
  ::close(fd);
}

std::map<std::string, std::string> Writer::files() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return files_;
}

nlohmann::json Writer::counts() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return counts_;
}

std::string image_name(const char* pattern, int64_t id) {
  char buf[256];
  std::snprintf(buf, sizeof buf, pattern, static_cast<long long>(id));
  return buf;
}

void add_image(std::vector<ImageJob>& jobs, std::string rel, const Scene& scene, Rng& rng) {
  jobs.push_back({std::move(rel), scene, rng.next()});
}

void render_images(Writer& w, const std::vector<ImageJob>& jobs, const std::string& label, int threads) {
  if (threads <= 0) threads = int(std::min(8u, std::max(1u, std::thread::hardware_concurrency())));
  threads = std::max(1, std::min<int>(threads, int(jobs.size())));
  std::atomic<size_t> next{0}, done{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < jobs.size();) {
      const auto& job = jobs[i];
      Rng noise(job.noise_seed);
      w.write(job.rel, encode_png(render(job.scene, noise), job.scene.width, job.scene.height));
      done.fetch_add(1);
    }
  };
  Progress progress(label, int64_t(jobs.size()));
  std::vector<std::thread> pool;
  std::exception_ptr failure;
  std::atomic<bool> failed{false};
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      try {
        work();
      } catch (...) {
        if (!failed.exchange(true)) failure = std::current_exception();
        next.store(jobs.size());
      }
    });
  while (done.load() < jobs.size() && !failed.load()) {
    progress.update(int64_t(done.load()));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
  progress.update(int64_t(jobs.size()));
  progress.finish();
}

nlohmann::json scene_to_json(const Scene& s) {
  nlohmann::json objects = nlohmann::json::array();
  for (const auto& o : s.objects)
    objects.push_back({{"shape", o.shape}, {"colour", o.colour}, {"size", o.size}, {"material", o.material},
                       {"cx", o.cx}, {"cy", o.cy}, {"radius", o.radius}, {"bbox", bbox(s, o)}});
  return {{"width", s.width}, {"height", s.height}, {"domain", s.domain}, {"background", s.background}, {"objects", objects}};
}

Scene scene_from_json(const nlohmann::json& j) {
  Scene s;
  s.width = j.at("width");
  s.height = j.at("height");
  s.domain = j.at("domain");
  s.background = j.at("background");
  for (const auto& o : j.at("objects"))
    s.objects.push_back({o.at("shape"), o.at("colour"), o.at("size"), o.at("material"), o.at("cx"), o.at("cy"), o.at("radius")});
  return s;
}

void write_scenes(Writer& w, const std::string& dataset, const std::string& split, const std::vector<ImageJob>& jobs) {
  nlohmann::json doc = nlohmann::json::object();
  for (const auto& job : jobs) doc[job.rel] = scene_to_json(job.scene);
  w.write_json("scenes/" + dataset + "/" + split + ".json", doc);
}

int Context::count(const std::string& key) const {
  auto it = options.counts.find(key);
  if (it == options.counts.end()) throw Error("world: preset '" + options.preset + "' has no count '" + key + "'");
  return it->second;
}

}  // namespace smoes::world
