// The data readers on hostile input: the fuzz findings of the loader and
// image targets (tests/fixtures/fuzz/<target>/) and the limits of
// docs/data.md "Limits on hostile input": declared lengths, nesting, image
// sizes; each refused with the file and the limit named, before allocating.
#include <gtest/gtest.h>
#include <stb/stb_image_write.h>

#include <filesystem>
#include <fstream>

#include "../error_of.h"
#include "../fuzz_regression.h"
#include "core/error.h"
#include "data/gqa.h"
#include "data/image_io.h"
#include "data/nlvr2.h"
#include "data/pickle.h"
#include "data/vcr.h"

using namespace smoes;

namespace {

std::string temp_file(const std::string& name, const std::string& bytes) {
  auto dir = std::filesystem::temp_directory_path() / "smoes_hostile_input";
  std::filesystem::create_directories(dir);
  std::string path = (dir / name).string();
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

// Both ways an image is read: decoded from memory and probed from its file.
void expect_refused(const std::string& file, const std::string& why) {
  SCOPED_TRACE(file);
  EXPECT_HAS(error_of([&] { data::decode_image_bytes(read_file(file), file); }), file + ": " + why);
  EXPECT_HAS(error_of([&] { data::probe_image(file); }), file + ": " + why);
}

std::string jpeg(int w, int h, int channels) {
  std::vector<uint8_t> px(size_t(w) * h * channels);
  for (size_t i = 0; i < px.size(); ++i) px[i] = uint8_t(i * 29 + 3);
  std::string out;
  auto sink = [](void* ctx, void* d, int n) { static_cast<std::string*>(ctx)->append((const char*)d, n); };
  EXPECT_TRUE(stbi_write_jpg_to_func(sink, &out, w, h, channels, px.data(), 90));
  return out;
}

}  // namespace

// Found by the fuzzer (UBSan in stb_image.h:1990, stbi__build_huffman): a
// JPEG Huffman table declaring 272 codes; stb_image 2.27 writes past its
// 257-entry table.
TEST(HostileImage, JpegHuffmanTableOfMoreThan256CodesIsRefused) {
  const std::string why = "corrupt JPEG: a Huffman table (DHT) declares more than 256 codes";
  // The table after the frame header: decoding reads it, the probe (like stbi_info) stops at the frame header.
  const std::string after = fuzz_regression::path("image", "dht_overflow.jpg");
  EXPECT_HAS(error_of([&] { data::decode_image_bytes(read_file(after), after); }), after + ": " + why);
  EXPECT_EQ(data::probe_image(after), std::make_pair(5, 3));
  // Before it: both read it.
  expect_refused(fuzz_regression::path("image", "dht_overflow_before_sof.jpg"), why);
}

TEST(HostileImage, ValidJpegsStillDecode) {
  for (int channels : {1, 3}) {
    auto img = data::decode_image_bytes(jpeg(37, 21, channels), "ok.jpg");
    EXPECT_EQ(img.width, 37);
    EXPECT_EQ(img.height, 21);
    std::string file = temp_file("ok" + std::to_string(channels) + ".jpg", jpeg(37, 21, channels));
    EXPECT_EQ(data::probe_image(file), std::make_pair(37, 21));
  }
}

// A 69-byte PNG declaring 8000x4000 RGBA: stb would allocate 128 MB, then
// find the data missing.
TEST(HostileImage, PngDeclaringMoreRowsThanItsBytesHoldIsRefusedBeforeDecoding) {
  expect_refused(fuzz_regression::path("image", "rows_beyond_file.png"),
                 "PNG declares 8000x4000 pixels, more than its 69 bytes can hold (deflate expands at most 1032x)");
}

// Found by the fuzzer (out-of-memory: malloc(2147483648) in stbi__parse_png_file):
// a 141-byte PNG whose second IDAT chunk declares 1140850718 bytes; stb grows
// its buffer to that before reading.
TEST(HostileImage, PngChunkLongerThanTheFileIsRefusedBeforeDecoding) {
  expect_refused(
      fuzz_regression::path("image", "idat_length_2gb.png"),
      "PNG chunk 'IDAT' at byte 75 declares 1140850718 bytes, only 58 left in the file; truncated or hostile");
}

TEST(HostileImage, MoreThanTheMaximumPixelsIsRefused) {
  expect_refused(fuzz_regression::path("image", "too_many_pixels.png"),
                 "image declares 10000x10000 = 100000000 pixels; refusing images over 33554432 pixels");
}

TEST(HostileImage, OnlyPngAndJpegAreRead) {
  // A 1x1 GIF and a BMP header: stb could read them, smoes does not try.
  std::string gif(
      "GIF87a\x01\x00\x01\x00\x80\x00\x00\xff\x00\x00\x00\x00\xff,"
      "\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00;",
      35);
  std::string file = temp_file("red.gif", gif);
  expect_refused(file, "not a readable image (neither a PNG nor a JPEG file)");
}

// Found by the fuzzer on the results reader (same parse in every loader): a
// number too large for a double escaped as nlohmann::out_of_range.
TEST(HostileData, NumberOverflowIsInvalidJson) {
  const std::string file = fuzz_regression::path("gqa", "number_overflow.json");
  std::string msg = error_of([&] { data::load_gqa(file, "images"); });
  EXPECT_HAS(msg, file + ": not valid JSON: ");
  EXPECT_HAS(msg, "number overflow");
}

TEST(HostileData, DeepNestingIsRefusedNamingTheFileAndTheLimit) {
  const std::string deep = std::string(5000, '[') + std::string(5000, ']');
  std::string file = temp_file("testdev_balanced_questions.json", "{\"1\": " + deep + "}");
  EXPECT_HAS(error_of([&] { data::load_gqa(file, "images"); }),
             file + ": JSON nested deeper than 1000 levels (at byte 1005); refusing to read it");
  // JSON lines: the line is named; tolerant mode refuses too (not a bad record).
  file = temp_file("dev.json", "{\"identifier\": \"dev-1-0-0\"}\n" + deep + "\n");
  data::LoadReport report;
  EXPECT_HAS(error_of([&] { data::load_nlvr2(file, "images", /*strict=*/false, &report); }),
             file + ": line 2: JSON nested deeper than 1000 levels (at byte 1000)");
}

// A long object name referenced many times: ~1.3 KB of JSON would spell out
// ~100 KB of question text (a 64 KB name x 64 K references: 4 GB).
TEST(HostileData, VcrReferencesCannotSpellOutMoreThanTheTextLimit) {
  nlohmann::json record = {{"annot_id", "a"},
                           {"img_fn", "x.jpg"},
                           {"objects", {std::string(1000, 'p')}},
                           {"question", {"Is", std::vector<int>(100, 0), "here", "?"}}};
  std::string file = temp_file("val.jsonl", record.dump() + "\n");
  EXPECT_HAS(error_of([&] { data::load_vcr(file, "images"); }),
             file +
                 ": line 1 (annot_id a): field 'question': object reference [0,0,0,0,0,0,0,0,...] spells out more "
                 "than 65536 bytes (the limit on one text field)");
}

TEST(HostileData, TextFieldsOverTheLimitAreRefusedNamingIt) {
  nlohmann::json doc = {{"7", {{"imageId", "n1"}, {"question", std::string(70000, 'w')}}}};
  std::string file = temp_file("val_balanced_questions.json", doc.dump());
  EXPECT_HAS(
      error_of([&] { data::load_gqa(file, "images"); }),
      file + ": question \"7\": field 'question': 70000 bytes, more than the 65536-byte limit on one text field");
  data::LoadReport report;
  EXPECT_TRUE(data::load_gqa(file, "images", /*strict=*/false, &report).empty());
  EXPECT_EQ(report.skipped, 1u);
}

TEST(HostileData, PickleLengthAskingForGigabytesIsRefusedBeforeAllocating) {
  // BINBYTES8 declaring 4 GiB, followed by 3 bytes.
  std::string p("\x80\x04\x8e\x00\x00\x00\x00\x01\x00\x00\x00", 11);
  p += "abc.";
  EXPECT_HAS(error_of([&] { data::unpickle(p, "refs(unc).p"); }),
             "refs(unc).p: byte offset 2: BINBYTES8: truncated: needs 4294967296 bytes, only 4 left");
}
