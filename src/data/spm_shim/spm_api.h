// The C interface through which smoes calls SentencePiece.
//
// Why a shim: Debian's libsentencepiece.so carries its own copy of
// protobuf-lite and exports those symbols; linking it into a process that
// also loads LibTorch's libprotobuf.so crashes during static initialisation
// (libprotobuf binds to sentencepiece's copy). RTLD_DEEPBIND is no cure
// (sentencepiece then writes to an unconstructed std::cerr). So SentencePiece
// lives in libsmoes_spm.so, which data/tokenizer.cpp loads with dlmopen into
// its own link-map namespace. Only C types cross the boundary and no memory
// allocated on one side is freed on the other (each side has its own heap).
#pragma once
#include <stddef.h>

extern "C" {

struct SmoesSpmApi {
  // Every call that can fail returns 0 / nullptr and writes a message to error[0..error_size).
  void* (*load)(const char* model_path, char* error, size_t error_size);
  void (*release)(void* processor);
  // Writes up to capacity ids; returns how many the text has (call again if larger), or -1.
  long (*encode)(void* processor, const char* text, size_t text_size, int* ids, size_t capacity, char* error,
                 size_t error_size);
  // Writes up to capacity bytes; returns the decoded length (call again if larger), or -1.
  long (*decode)(void* processor, const int* ids, size_t count, char* text, size_t capacity, char* error,
                 size_t error_size);
  int (*piece_to_id)(void* processor, const char* piece);
  int (*unk_id)(void* processor);
  int (*piece_size)(void* processor);
  int (*train)(const char* args, char* error, size_t error_size);
};

const SmoesSpmApi* smoes_spm_api();
}
