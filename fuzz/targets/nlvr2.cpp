// Fuzz target: NLVR2 JSON lines ({train,dev,test1}.json).
#include "data/nlvr2.h"

#include "loader_target.h"

using namespace smoes::data;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = fuzz::work_dir();
  const std::string file = fuzz::write_input("nlvr2/dev.json", fuzz::as_view(data, size));
  fuzz::run_loader("load_nlvr2",
                   [&](bool strict, LoadReport* report) { return load_nlvr2(file, dir + "/images", strict, report); });
  return 0;
}
