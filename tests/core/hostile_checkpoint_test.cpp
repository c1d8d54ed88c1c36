// The checkpoint reader on hostile files: what the checkpoint fuzz target
// found (docs/RELIABILITY.md, "Fuzzing"). The inputs are in
// tests/fixtures/fuzz/checkpoint/ (the fuzz smoke replays them too), with
// payload_bytes and payload_sha256 matching their payload (a hostile file
// can carry the right hash).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "../error_of.h"
#include "../fuzz_regression.h"
#include "core/checkpoint.h"
#include "core/error.h"
#include "core/files.h"

namespace {

// The fuzz target's model (fuzz/targets/checkpoint.cpp).
struct Tiny : torch::nn::Module {
  Tiny() {
    w = register_parameter("w", torch::zeros({2, 3}));
    b = register_buffer("b", torch::zeros({3}));
    fc = register_module("fc", torch::nn::Linear(3, 2));
  }
  torch::Tensor w, b;
  torch::nn::Linear fc{nullptr};
};

std::string load_error(const std::string& file) {
  Tiny model;
  torch::optim::AdamW adamw(model.parameters());
  return error_of([&] { smoes::load_checkpoint(file, model, &adamw, nullptr, /*restore_rng=*/false); });
}

}  // namespace

// libtorch's archive reader (torch::jit::load: it parses the archive's
// TorchScript and pickles) throws more than c10::Error: torch::jit::ErrorReport,
// std::runtime_error from the TorchScript lexer, std::out_of_range; each
// becomes a smoes::Error naming the file. The ErrorReport input (a pickle
// opcode libtorch does not know) is now refused by the archive check first.
TEST(HostileCheckpoint, EveryTorchArchiveErrorIsASmoesError) {
  for (const char* name : {"escape_runtime_error.ckpt", "escape_out_of_range.ckpt"}) {
    const std::string file = fuzz_regression::path("checkpoint", name);
    EXPECT_HAS(load_error(file), file + ": cannot restore checkpoint: ");
  }
  const std::string file = fuzz_regression::path("checkpoint", "escape_error_report.ckpt");
  EXPECT_EQ(load_error(file), file + ": torch archive: archive/data.pkl: byte 682: opcode 0xa8 is not a pickle opcode");
}

// A corrupt zip: libtorch 1.13's PyTorchStreamReader leaks its miniz reader
// (~3 KB) when its init fails (LeakSanitizer). The archive check now refuses
// this one before libtorch opens it; a zip damaged in a way the check lets
// through could still reach that leak, which is libtorch's, on its error
// path: it stays suppressed, with this reason, in scripts/lsan.supp.
TEST(HostileCheckpoint, CorruptZipIsRefusedWithoutALeak) {
  const std::string file = fuzz_regression::path("checkpoint", "leak_corrupt_zip.ckpt");
  EXPECT_HAS(load_error(file), file + ": torch archive: ");
}

// A meta block nested 300000 deep overflows the stack when meta_from_json
// copies "extra" (nlohmann copies recursively): check_json_depth
// (core/json_input.h) refuses it before parsing.
TEST(HostileCheckpoint, DeepMetaIsRefusedNamingTheLimit) {
  std::string good = smoes::read_file(fuzz_regression::path("checkpoint", "escape_runtime_error.ckpt"));
  uint64_t meta_len = 0;
  std::memcpy(&meta_len, good.data() + 8, 8);
  nlohmann::json j = nlohmann::json::parse(good.substr(16, meta_len));
  j["extra"] = "DEEP";
  std::string meta = j.dump();
  meta.replace(meta.find("\"DEEP\""), 6, std::string(300000, '[') + std::string(300000, ']'));
  uint64_t len = meta.size();
  std::string file_bytes =
      good.substr(0, 8) + std::string(reinterpret_cast<const char*>(&len), 8) + meta + good.substr(16 + meta_len);
  const std::string file = (std::filesystem::temp_directory_path() / "deep_meta.ckpt").string();
  std::ofstream(file, std::ios::binary) << file_bytes;
  EXPECT_HAS(error_of([&] { smoes::read_checkpoint_meta(file); }), file + ": JSON nested deeper than 1000 levels");
}

// Found by the full fuzz run at execution 99,465 (docs/RELIABILITY.md): the
// payload's data.pkl has LONG_BINPUT 677,735,023 at byte 1034, and libtorch's
// unpickler grows its memo table to that index (16 bytes an entry, 10.8 GB)
// before anything fails. The archive check (core/torch_archive_check.h)
// refuses it first; the fuzz smoke replays the input under a 2 GB malloc
// limit, so an allocation first would fail it there too.
TEST(HostileCheckpoint, MemoIndexOfGigabytesIsRefusedBeforeLibtorchAllocates) {
  const std::string file = fuzz_regression::path("checkpoint", "unpickler_memo_index_10gb.ckpt");
  const std::string expected = file + ": torch archive: archive/data.pkl: byte 1034: opcode 0x72 puts memo entry " +
                               "677735023; a pickle of 1104 bytes has fewer entries";
  EXPECT_EQ(load_error(file), expected);
  EXPECT_EQ(error_of([&] { smoes::read_checkpoint_meta(file); }), expected);
}
