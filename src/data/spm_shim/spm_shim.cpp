// libsmoes_spm.so: SentencePiece behind the SmoesSpmApi table (see spm_api.h).
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <cstring>

#include "data/spm_shim/spm_api.h"

namespace {

using sentencepiece::SentencePieceProcessor;
SentencePieceProcessor* as_processor(void* p) { return static_cast<SentencePieceProcessor*>(p); }

bool report(const sentencepiece::util::Status& status, char* error, size_t error_size) {
  if (!status.ok() && error_size > 0) {
    std::strncpy(error, status.ToString().c_str(), error_size - 1);
    error[error_size - 1] = '\0';
  }
  return status.ok();
}

void* load(const char* path, char* error, size_t error_size) {
  auto* sp = new SentencePieceProcessor();
  if (report(sp->Load(path), error, error_size)) return sp;
  delete sp;
  return nullptr;
}

void release(void* p) { delete as_processor(p); }

long encode(void* p, const char* text, size_t size, int* ids, size_t capacity, char* error, size_t error_size) {
  std::vector<int> out;
  if (!report(as_processor(p)->Encode(std::string_view(text, size), &out), error, error_size)) return -1;
  std::memcpy(ids, out.data(), std::min(capacity, out.size()) * sizeof(int));
  return long(out.size());
}

long decode(void* p, const int* ids, size_t count, char* text, size_t capacity, char* error, size_t error_size) {
  std::string out;
  if (!report(as_processor(p)->Decode(std::vector<int>(ids, ids + count), &out), error, error_size)) return -1;
  std::memcpy(text, out.data(), std::min(capacity, out.size()));
  return long(out.size());
}

int piece_to_id(void* p, const char* piece) { return as_processor(p)->PieceToId(piece); }
int unk_id(void* p) { return as_processor(p)->unk_id(); }
int piece_size(void* p) { return as_processor(p)->GetPieceSize(); }

int train(const char* args, char* error, size_t error_size) {
  return report(sentencepiece::SentencePieceTrainer::Train(args), error, error_size);
}

const SmoesSpmApi api{load, release, encode, decode, piece_to_id, unk_id, piece_size, train};

}  // namespace

extern "C" const SmoesSpmApi* smoes_spm_api() { return &api; }
