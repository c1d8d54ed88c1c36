// Fuzz target: COCO captions (annotations/captions_<split>.json).
#include "data/captions.h"
#include "loader_target.h"

using namespace smoes::data;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = fuzz::work_dir();
  [[maybe_unused]] const std::string file =
      fuzz::write_input("coco/annotations/captions_val.json", fuzz::as_view(data, size));
  fuzz::run_loader("load_coco_captions", [&](bool strict, LoadReport* report) {
    return load_coco_captions(dir + "/coco", "val", strict, report);
  });
  return 0;
}
