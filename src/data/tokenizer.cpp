#include "data/tokenizer.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "data/spm_shim/spm_api.h"

namespace smoes::data {
namespace {

constexpr size_t kErrorSize = 512;  // message buffer handed to the shim

// Where libsmoes_spm.so is: $SMOES_SPM_LIB, the build tree, or beside the executable.
std::string shim_path() {
  if (const char* env = std::getenv("SMOES_SPM_LIB")) return env;
  if (std::filesystem::exists(SMOES_SPM_PATH)) return SMOES_SPM_PATH;
  return (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "libsmoes_spm.so").string();
}

const SmoesSpmApi& spm() {
  static const SmoesSpmApi* api = [] {
    std::string path = shim_path();
    // A namespace of its own: see spm_api.h.
    void* handle = dlmopen(LM_ID_NEWLM, path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) throw Error("cannot open the SentencePiece shim " + path + ": " + dlerror());
    auto get = reinterpret_cast<const SmoesSpmApi* (*)()>(dlsym(handle, "smoes_spm_api"));
    if (!get) throw Error(path + ": no smoes_spm_api symbol");
    return get();
  }();
  return *api;
}

// Runs a shim call that fills a caller-sized buffer, growing it once if the answer was larger.
template <typename T, typename Call>
std::vector<T> fill(Call call, const char* what) {
  std::vector<T> out(256);
  char error[kErrorSize] = "";
  long n = call(out.data(), out.size(), error);
  if (n > long(out.size())) {
    out.resize(size_t(n));
    n = call(out.data(), out.size(), error);
  }
  if (n < 0) throw Error(std::string("tokenizer: cannot ") + what + ": " + error);
  out.resize(size_t(n));
  return out;
}

}  // namespace

void Tokenizer::train(const std::vector<std::string>& files, const std::string& prefix, int vocab_size,
                      int location_bins) {
  if (files.empty()) throw Error("tokenizer: no training text given");
  std::string inputs, symbols = "<image>";
  for (const auto& f : files) inputs += (inputs.empty() ? "" : ",") + f;
  for (int i = 0; i < location_bins; ++i) symbols += ",<loc_" + std::to_string(i) + ">";
  // SentencePiece writes its files in place: train under a temp prefix, then
  // rename, so a reader never sees half a model (the .model last).
  const std::string temp = prefix + ".tmp." + std::to_string(::getpid());
  std::string args = "--input=" + inputs + " --model_prefix=" + temp + " --vocab_size=" + std::to_string(vocab_size) +
                     " --model_type=unigram --character_coverage=1.0 --pad_id=0 --unk_id=1 --bos_id=2 --eos_id=3" +
                     " --user_defined_symbols=" + symbols + " --num_threads=1 --shuffle_input_sentence=false" +
                     " --minloglevel=2 --hard_vocab_limit=false";
  char error[kErrorSize] = "";
  if (!spm().train(args.c_str(), error, kErrorSize)) {
    std::filesystem::remove(temp + ".model");
    std::filesystem::remove(temp + ".vocab");
    throw Error(std::string("tokenizer training failed: ") + error);
  }
  for (const char* ext : {".vocab", ".model"})
    if (std::rename((temp + ext).c_str(), (prefix + ext).c_str()) != 0)
      throw Error(prefix + ext + ": cannot move the trained tokenizer into place: " + std::strerror(errno));
}

Tokenizer::Tokenizer(const std::string& model_path) : path_(model_path) {
  char error[kErrorSize] = "";
  sp_ = spm().load(model_path.c_str(), error, kErrorSize);
  if (!sp_) throw Error(model_path + ": cannot load SentencePiece model: " + error);
  const int unk = spm().unk_id(sp_);
  image_id_ = spm().piece_to_id(sp_, "<image>");
  if (image_id_ == unk) {
    spm().release(sp_);
    throw Error(model_path + ": tokenizer has no <image> token (not trained by smoes?)");
  }
  first_location_ = spm().piece_to_id(sp_, "<loc_0>");
  if (first_location_ != unk)
    while (spm().piece_to_id(sp_, ("<loc_" + std::to_string(location_bins_) + ">").c_str()) != unk) ++location_bins_;
}

Tokenizer::~Tokenizer() { spm().release(sp_); }

std::vector<int> Tokenizer::encode(const std::string& text) const {
  return fill<int>([&](int* out, size_t capacity, char* error) {
    return spm().encode(sp_, text.data(), text.size(), out, capacity, error, kErrorSize);
  }, "encode text");
}

std::string Tokenizer::decode(const std::vector<int>& ids) const {
  auto text = fill<char>([&](char* out, size_t capacity, char* error) {
    return spm().decode(sp_, ids.data(), ids.size(), out, capacity, error, kErrorSize);
  }, "decode ids");
  return std::string(text.begin(), text.end());
}

int Tokenizer::vocab_size() const { return spm().piece_size(sp_); }

int Tokenizer::location_id(int bin) const {
  if (bin < 0 || bin >= location_bins_)
    throw Error("tokenizer: location bin " + std::to_string(bin) + " outside 0.." + std::to_string(location_bins_ - 1));
  return first_location_ + bin;
}

TokenizedExample tokenize(const Tokenizer& tok, const std::string& prompt, const std::string& target,
                          int image_tokens, int max_text_tokens) {
  TokenizedExample out;
  auto push = [&](int64_t id, int64_t modality, bool loss) {
    out.ids.push_back(id);
    out.modality.push_back(modality);
    out.loss.push_back(loss);
  };
  push(tok.bos_id(), 0, false);
  int text = 0;
  for (int id : tok.encode(prompt)) {
    if (id == tok.image_id()) {
      for (int i = 0; i < image_tokens; ++i) push(id, 1, false);
      ++out.images;
    } else if (text++ < max_text_tokens) {
      push(id, 0, false);
    }
  }
  auto target_ids = tok.encode(target);
  if (int(target_ids.size()) > max_text_tokens) target_ids.resize(max_text_tokens);
  for (int id : target_ids) push(id, 0, true);
  push(tok.eos_id(), 0, true);
  return out;
}

}  // namespace smoes::data
