// Fuzz target: Conceptual Captions TSV (caption<TAB>image path).
#include "data/captions.h"
#include "loader_target.h"

using namespace smoes::data;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = fuzz::work_dir();
  const std::string file = fuzz::write_input("cc/train.tsv", fuzz::as_view(data, size));
  fuzz::run_loader("load_cc_tsv", [&](bool strict, LoadReport* report) { return load_cc_tsv(file, strict, report); });
  return 0;
}
