// smoes tokenizer train: a SentencePiece model with smoes' special tokens.
#include <filesystem>

#include "cli/commands.h"
#include "core/error.h"
#include "core/files.h"
#include "data/tokenizer.h"
#include "tasks/tasks.h"

namespace smoes::cli {

Command add_tokenizer(CLI::App& app) {
  auto* tok = app.add_subcommand("tokenizer", "SentencePiece tokenizer with <image>, pad/bos/eos and <loc_i> tokens");
  tok->require_subcommand(1);
  auto* train = tok->add_subcommand("train", "Train a tokenizer on a dataset root's text and/or text files");
  struct Options {
    std::string world, out;
    std::vector<std::string> inputs;
    int vocab = 2000, bins = 32;
  };
  auto o = std::make_shared<Options>();
  train->add_option("--world", o->world, "dataset root: its corpus and every train split's text");
  train->add_option("--input", o->inputs, "more text files (one sentence per line)");
  train->add_option("--out", o->out, "model path prefix (writes PREFIX.model; default <world>/tokenizer)");
  train->add_option("--vocab-size", o->vocab, "pieces in the vocabulary")->check(CLI::Range(64, 1000000))->capture_default_str();
  train->add_option("--location-bins", o->bins, "grounding tokens <loc_0>..<loc_{B-1}>")->check(CLI::Range(0, 100000))->capture_default_str();
  return {tok, [o] {
            namespace fs = std::filesystem;
            auto files = o->inputs;
            for (const auto& f : files) read_file(f);  // each is named if missing, before SentencePiece logs anything
            std::string prefix = o->out;
            if (!o->world.empty()) {
              auto text_file = (fs::path(o->world) / "tokenizer_text.txt").string();
              write_file_atomic(text_file, tasks::training_text(o->world));
              files.push_back(text_file);
              if (prefix.empty()) prefix = (fs::path(o->world) / "tokenizer").string();
            }
            if (files.empty()) throw Error("tokenizer train: give --world DIR and/or --input FILE");
            if (prefix.empty()) throw Error("tokenizer train: give --out PREFIX");
            data::Tokenizer::train(files, prefix, o->vocab, o->bins);
            data::Tokenizer check(prefix + ".model");
            std::printf("wrote %s.model: %d pieces, %d location tokens\n", prefix.c_str(), check.vocab_size(),
                        check.location_bins());
          }};
}

}  // namespace smoes::cli
