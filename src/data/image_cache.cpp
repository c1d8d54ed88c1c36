#include "data/image_cache.h"

#include <filesystem>

#include "core/error.h"
#include "core/files.h"
#include "data/image_io.h"

namespace smoes::data {

namespace fs = std::filesystem;

ImageCache::ImageCache(std::string cache_dir, int side) : dir_(std::move(cache_dir)), side_(side) {
  if (side <= 0) throw Error("image cache: side must be positive");
  if (!dir_.empty()) fs::create_directories(dir_);
}

std::string ImageCache::disk_key(const std::string& path) const {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  auto mtime = fs::last_write_time(path, ec).time_since_epoch().count();
  return sha256_hex(fs::absolute(path).string() + "|" + std::to_string(size) + "|" + std::to_string(mtime) + "|" +
                    std::to_string(side_));
}

const std::vector<uint8_t>& ImageCache::get(const std::string& path) {
  auto hit = memory_.find(path);
  if (hit != memory_.end()) return hit->second;
  const size_t bytes = size_t(side_) * side_ * 3;
  std::string file = dir_.empty() ? "" : (fs::path(dir_) / (disk_key(path) + ".rgb")).string();
  std::vector<uint8_t> rgb;
  if (!file.empty() && fs::exists(file) && fs::file_size(file) == bytes) {
    std::string raw = read_file(file);
    rgb.assign(raw.begin(), raw.end());
  } else {
    rgb = resize(decode_image(path), side_, side_).rgb;
    ++decodes_;
    if (!file.empty()) write_file_atomic(file, std::string_view(reinterpret_cast<const char*>(rgb.data()), rgb.size()));
  }
  return memory_.emplace(path, std::move(rgb)).first->second;
}

}  // namespace smoes::data
