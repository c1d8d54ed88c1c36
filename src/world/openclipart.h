// `smoes world openclipart`: real clip art no one here drew, as a COCO-format
// caption set. Debian's openclipart-png holds the pictures; the matching
// SVGs of openclipart-svg hold what their authors wrote about them (Dublin
// Core metadata: title, description, keywords). The references are only that
// human-written text, never a template:
//   1. the title ("Armadillo"),
//   2. the description's first sentence, when there is one and it is not the title,
//   3. the first 8 keywords joined by ", ", minus the author's name and the title.
// Pictures without an SVG title (or whose title is the author's name) are
// skipped and counted, with the reason.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/example.h"

namespace smoes::world {

struct ClipartMetadata {
  std::string title, description, creator;
  std::vector<std::string> keywords;
};

// Reads the cc:Work metadata of an SVG file. Throws smoes::Error naming the
// file when it cannot be read or parsed as XML.
ClipartMetadata read_svg_metadata(const std::string& svg_path);

// The reference captions of one picture (rules above); empty without a title.
std::vector<std::string> clipart_captions(const ClipartMetadata& m);

struct OpenClipartOptions {
  std::string png_root = "/usr/share/openclipart/png";
  std::string svg_root = "/usr/share/openclipart/svg";
  int image_size = 128;  // pictures are letterboxed onto a white square of this side
  int64_t limit = 0;     // first N pictures in path order (0 = all)
};

// Writes out_dir/coco/annotations/captions_openclipart.json, the pictures under
// out_dir/coco/images/openclipart/ and out_dir/MANIFEST.json; returns what was
// read and skipped. Throws when png_root has no PNG at all.
data::LoadReport convert_openclipart(const OpenClipartOptions& options, const std::string& out_dir);

}  // namespace smoes::world
