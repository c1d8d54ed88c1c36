// SentencePiece tokenizer (reached through libsmoes_spm.so, see
// spm_shim/spm_api.h) with the special tokens smoes needs: pad, unk,
// bos, eos, <image> and the grounding location tokens <loc_0>..<loc_{B-1}>,
// each a single id. Trained from text files (`smoes tokenizer train`).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace smoes::data {

class Tokenizer {
 public:
  // Trains `<model_prefix>.model` (unigram) on the text files; deterministic for the same input.
  static void train(const std::vector<std::string>& text_files, const std::string& model_prefix, int vocab_size,
                    int location_bins);

  explicit Tokenizer(const std::string& model_path);
  ~Tokenizer();

  std::vector<int> encode(const std::string& text) const;
  std::string decode(const std::vector<int>& ids) const;
  int vocab_size() const;
  int pad_id() const { return 0; }
  int unk_id() const { return 1; }
  int bos_id() const { return 2; }
  int eos_id() const { return 3; }
  int image_id() const { return image_id_; }
  int location_id(int bin) const;  // id of <loc_bin>
  int location_bins() const { return location_bins_; }
  const std::string& path() const { return path_; }

 private:
  void* sp_ = nullptr;  // the SentencePieceProcessor inside the shim
  std::string path_;
  int image_id_ = -1, first_location_ = -1, location_bins_ = 0;
};

// A prompt/target pair as model input: "<image>" expanded into
// `image_tokens` vision slots, modality ids (text 0 / vision 1) per token, and
// the loss mask over target tokens (+ eos). Text beyond max_text_tokens is cut.
struct TokenizedExample {
  std::vector<int64_t> ids, modality;
  std::vector<uint8_t> loss;
  int images = 0;
};

TokenizedExample tokenize(const Tokenizer& tok, const std::string& prompt, const std::string& target,
                          int image_tokens, int max_text_tokens);

}  // namespace smoes::data
