// Fuzz target: the restricted unpickler (data/pickle.h), what reads REFER's
// refs(<split_by>).p. Property: whatever it reads, the writer writes back
// and the reader reads to the same JSON.
#include "data/pickle.h"

#include "fuzz_common.h"

using nlohmann::json;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  json value;
  bool ok = false;
  fuzz::guard("unpickle", [&] {
    value = smoes::data::unpickle(fuzz::as_view(data, size), "fuzz.p");
    ok = true;
  });
  if (!ok) return 0;
  std::string again;
  try {
    again = smoes::data::pickle(value);
  } catch (const std::exception& e) {
    fuzz::finding(std::string("pickle() refused what unpickle() read: ") + e.what());
  }
  json back;
  try {
    back = smoes::data::unpickle(again, "fuzz.p (written back)");
  } catch (const std::exception& e) {
    fuzz::finding(std::string("unpickle() refused what pickle() wrote: ") + e.what());
  }
  // dump(): NaN reads back as NaN, which == would call different.
  if (back.dump() != value.dump()) fuzz::finding("unpickle(pickle(v)) != v");
  return 0;
}
