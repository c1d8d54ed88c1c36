// Fuzz target: VCR JSON lines ({train,val,test}.jsonl).
#include "data/vcr.h"

#include "loader_target.h"

using namespace smoes::data;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = fuzz::work_dir();
  const std::string file = fuzz::write_input("vcr/val.jsonl", fuzz::as_view(data, size));
  fuzz::run_loader("load_vcr",
                   [&](bool strict, LoadReport* report) { return load_vcr(file, dir + "/images", strict, report); });
  return 0;
}
