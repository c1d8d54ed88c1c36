#include "world/openclipart.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iterator>
#include <pugixml.hpp>
#include <sstream>

#include "core/error.h"
#include "core/files.h"
#include "core/log.h"
#include "data/image_io.h"
#include "world/output.h"
#include "world/render.h"

namespace smoes::world {
namespace fs = std::filesystem;

namespace {

// Collapses runs of white space and trims; decodes the HTML entities some
// authors escaped twice ("&amp;quot;" arrives here as "&quot;").
std::string clean(const std::string& raw) {
  std::string s;
  for (char c : raw) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!s.empty() && s.back() != ' ') s += ' ';
    } else {
      s += c;
    }
  }
  if (!s.empty() && s.back() == ' ') s.pop_back();
  for (auto [entity, text] : {std::pair{"&quot;", "\""}, {"&#39;", "'"}, {"&apos;", "'"}, {"&lt;", "<"},
                              {"&gt;", ">"}, {"&amp;", "&"}})
    for (size_t at = s.find(entity); at != std::string::npos; at = s.find(entity, at + 1))
      s.replace(at, std::string(entity).size(), text);
  return s;
}

std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Lower case without trailing punctuation: "2 dead frogs..." says what "2 Dead Frogs" says.
std::string comparable(const std::string& s) {
  std::string out = lower(s);
  while (!out.empty() && std::ispunct(static_cast<unsigned char>(out.back()))) out.pop_back();
  return out;
}

// Some authors tag a picture with dozens of keywords; a reference caption keeps the first few.
constexpr int kMaxKeywords = 8;

std::string first_sentence(const std::string& text) {
  for (size_t i = 0; i + 1 < text.size(); ++i)
    if ((text[i] == '.' || text[i] == '!' || text[i] == '?') && text[i + 1] == ' ') return text.substr(0, i + 1);
  return text;
}

size_t word_count(const std::string& s) {
  std::istringstream in(s);
  return size_t(std::distance(std::istream_iterator<std::string>(in), std::istream_iterator<std::string>()));
}

// The picture on a white square of side `size`, aspect ratio kept.
data::Image letterbox(const data::Image& img, int size) {
  const double scale = double(size) / std::max(img.width, img.height);
  const int w = std::max(1, int(img.width * scale + 0.5)), h = std::max(1, int(img.height * scale + 0.5));
  const data::Image small = data::resize(img, w, h);
  data::Image out;
  out.width = out.height = size;
  out.rgb.assign(size_t(size) * size * 3, 255);
  const int x0 = (size - w) / 2, y0 = (size - h) / 2;
  for (int y = 0; y < h; ++y)
    std::copy_n(&small.rgb[size_t(y) * w * 3], size_t(w) * 3, &out.rgb[(size_t(y + y0) * size + x0) * 3]);
  return out;
}

std::vector<std::string> sorted_pngs(const std::string& root) {
  std::vector<std::string> rels;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec))
    if (it->is_regular_file() && lower(it->path().extension().string()) == ".png")
      rels.push_back(fs::relative(it->path(), root).string());
  std::sort(rels.begin(), rels.end());
  return rels;
}

}  // namespace

ClipartMetadata read_svg_metadata(const std::string& svg_path) {
  pugi::xml_document doc;
  const auto parsed = doc.load_file(svg_path.c_str());
  if (!parsed) throw Error(svg_path + ": not readable as XML (" + parsed.description() + ")");
  ClipartMetadata m;
  const auto work = doc.select_node("//*[local-name()='Work']").node();
  if (!work) return m;
  m.title = clean(work.child("dc:title").text().get());
  m.description = clean(work.child("dc:description").text().get());
  m.creator = clean(work.child("dc:creator").child("cc:Agent").child("dc:title").text().get());
  for (auto li : work.child("dc:subject").child("rdf:Bag").children("rdf:li")) {
    std::string k = clean(li.text().get());
    if (!k.empty()) m.keywords.push_back(k);
  }
  return m;
}

std::vector<std::string> clipart_captions(const ClipartMetadata& m) {
  // Some pictures carry the author's name as their title: that says nothing about the picture.
  if (m.title.empty() || lower(m.title) == lower(m.creator)) return {};
  std::vector<std::string> caps = {m.title};
  const std::string sentence = first_sentence(m.description);
  if (!sentence.empty() && word_count(sentence) <= 40 && comparable(sentence) != comparable(m.title))
    caps.push_back(sentence);
  std::string keywords;
  int kept = 0;
  for (const auto& k : m.keywords) {
    if (lower(k) == lower(m.creator) || lower(k) == lower(m.title)) continue;
    if (kept++ == kMaxKeywords) break;
    keywords += (keywords.empty() ? "" : ", ") + k;
  }
  if (!keywords.empty()) caps.push_back(keywords);
  return caps;
}

data::LoadReport convert_openclipart(const OpenClipartOptions& o, const std::string& out_dir) {
  auto rels = sorted_pngs(o.png_root);
  if (rels.empty())
    throw Error(o.png_root + ": no PNG files (install them with `make openclipart`, or pass --png-root)");
  if (o.limit > 0 && int64_t(rels.size()) > o.limit) rels.resize(size_t(o.limit));

  fs::create_directories(out_dir);
  Writer w(out_dir);
  data::LoadReport report;
  nlohmann::json images = nlohmann::json::array(), annotations = nlohmann::json::array();
  Progress progress("openclipart", int64_t(rels.size()));
  for (size_t i = 0; i < rels.size(); ++i) {
    progress.update(int64_t(i));
    ++report.records;
    const std::string png = (fs::path(o.png_root) / rels[i]).string();
    const std::string svg = (fs::path(o.svg_root) / fs::path(rels[i]).replace_extension(".svg")).string();
    if (!fs::exists(svg)) {
      report.skip("no SVG with metadata", png + ": no matching SVG " + svg);
      continue;
    }
    std::vector<std::string> caps;
    try {
      caps = clipart_captions(read_svg_metadata(svg));
    } catch (const Error& e) {
      report.skip("SVG not parseable", e.what());
      continue;
    }
    if (caps.empty()) {
      report.skip("no title in SVG metadata", svg + ": field 'dc:title' missing or empty");
      continue;
    }
    data::Image img;
    try {
      img = letterbox(data::decode_image(png), o.image_size);
    } catch (const Error& e) {
      report.skip("image not decodable", e.what());
      continue;
    }
    const int64_t id = int64_t(images.size()) + 1;
    const std::string file_name = image_name("openclipart_%012lld.png", id);
    w.write("coco/images/openclipart/" + file_name, encode_png(img.rgb, img.width, img.height));
    images.push_back({{"id", id}, {"file_name", file_name}, {"width", img.width}, {"height", img.height},
                      {"source", rels[i]}});
    for (const auto& c : caps)
      annotations.push_back({{"id", int64_t(annotations.size()) + 1}, {"image_id", id}, {"caption", c}});
  }
  progress.finish();

  const nlohmann::json doc = {
      {"info", {{"description", "Open Clip Art Library pictures (Debian openclipart-png/-svg) with their authors' "
                                "titles, descriptions and keywords as captions"}}},
      {"licenses", nlohmann::json::array({{{"id", 1}, {"name", "Public Domain"}}})},
      {"images", images},
      {"annotations", annotations}};
  w.write_json("coco/annotations/captions_openclipart.json", doc);
  w.count("openclipart", "openclipart", "images", int64_t(images.size()));
  w.count("openclipart", "openclipart", "captions", int64_t(annotations.size()));
  w.count("openclipart", "openclipart", "skipped", int64_t(report.skipped));
  w.sync();
  const nlohmann::json manifest = {{"generator", "smoes-openclipart"}, {"version", kGeneratorVersion},
                                   {"params", {{"png_root", o.png_root}, {"svg_root", o.svg_root},
                                               {"image_size", o.image_size}, {"limit", o.limit}}},
                                   {"datasets", w.counts()}, {"files", w.files()}};
  write_file_atomic((fs::path(out_dir) / "MANIFEST.json").string(), manifest.dump(1) + "\n");
  spdlog::info("openclipart: {} pictures, {} captions, {} skipped -> {}", images.size(), annotations.size(),
               report.skipped, out_dir);
  return report;
}

}  // namespace smoes::world
