// Fuzz target: SNLI-VE JSON lines (snli_ve_<split>.jsonl).
#include "data/snli_ve.h"

#include "loader_target.h"

using namespace smoes::data;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = fuzz::work_dir();
  const std::string file = fuzz::write_input("snli_ve/snli_ve_dev.jsonl", fuzz::as_view(data, size));
  fuzz::run_loader("load_snli_ve", [&](bool strict, LoadReport* report) {
    return load_snli_ve(file, dir + "/images", strict, report);
  });
  return 0;
}
