// A check of a libtorch archive (the zip that torch::serialize writes, the
// payload of a smoes checkpoint) before libtorch reads it. libtorch trusts
// the sizes an archive declares: miniz allocates a record's declared
// uncompressed size, the unpickler a string's declared length and a memo
// table as long as the largest index a PUT names, before any of them finds
// the bytes missing (a 10 KB file asked for 10.8 GB in a fuzz run). check_torch_archive walks the zip's central directory and every
// pickle in it and refuses, naming the record and the limit:
//   * a record outside the archive, or stored with sizes that differ;
//   * a compressed record declaring more than deflate can expand its bytes to
//     (1032:1) or more than kTorchArchiveMaxDeflatedBytes; any record
//     declaring more than kTorchArchiveMaxRecordBytes;
//   * a compressed pickle (libtorch writes pickles stored; walking one would
//     mean inflating it first);
//   * whatever check_pickle_lengths refuses in a pickle.
// No torch here: the fuzz targets and tests link it alone.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace smoes {

inline constexpr uint64_t kTorchArchiveMaxRecordBytes = uint64_t(1) << 32;  // 4 GiB
// libtorch stores tensors; only small records (TorchScript code) are ever
// deflated, so a deflated record may not declare more than this, whatever
// its ratio: a 4 MB record could otherwise ask for 4 GB within 1032:1.
inline constexpr uint64_t kTorchArchiveMaxDeflatedBytes = uint64_t(64) << 20;  // 64 MiB

// Throws smoes::Error "<name>: torch archive: <record>: <problem>".
void check_torch_archive(std::string_view archive, const std::string& name);

// Walks a pickle's opcodes (protocols 0-5, every opcode, nothing executed or
// built) and throws smoes::Error "<where>: byte N: ..." for an opcode whose
// declared length (BINUNICODE8, BINBYTES, LONG4, FRAME, ...) reaches past the
// end of the pickle, a memo index (PUT, BINPUT, LONG_BINPUT) not below the
// pickle's length in bytes, a text argument without its newline, an unknown
// opcode, or no STOP.
void check_pickle_lengths(std::string_view pickle, const std::string& where);

}  // namespace smoes
