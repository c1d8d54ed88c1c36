// Decoded, resized images, kept in memory and (optionally) on disk so a run
// decodes each PNG/JPEG once and later runs decode nothing. A disk entry is
// keyed by the image's path, size, modification time and the target side, so
// a changed file is decoded again.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace smoes::data {

class ImageCache {
 public:
  // cache_dir "" = memory only. side = the square size images are resized to.
  ImageCache(std::string cache_dir, int side);

  // side*side*3 RGB bytes of the image at `path`; throws smoes::Error for unreadable images.
  const std::vector<uint8_t>& get(const std::string& path);
  int side() const { return side_; }
  size_t decodes() const { return decodes_; }  // images decoded (cache misses)

 private:
  std::string disk_key(const std::string& path) const;

  std::string dir_;
  int side_;
  size_t decodes_ = 0;
  std::unordered_map<std::string, std::vector<uint8_t>> memory_;
};

}  // namespace smoes::data
