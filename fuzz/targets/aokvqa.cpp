// Fuzz target: A-OKVQA aokvqa_v1p0_<split>.json.
#include "data/aokvqa.h"

#include "loader_target.h"

using namespace smoes::data;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = fuzz::work_dir();
  const std::string file = fuzz::write_input("aokvqa/aokvqa_v1p0_val.json", fuzz::as_view(data, size));
  fuzz::run_loader("load_aokvqa",
                   [&](bool strict, LoadReport* report) { return load_aokvqa(file, dir + "/coco", strict, report); });
  return 0;
}
