// Fuzz target: COCO instances (annotations/instances_<split>.json), read as
// the detection task and for the category / attribute names.
#include "data/instances.h"
#include "loader_target.h"

using namespace smoes::data;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string root = fuzz::work_dir() + "/coco";
  fuzz::write_input("coco/annotations/instances_val.json", fuzz::as_view(data, size));
  fuzz::run_loader("load_coco_instances",
                   [&](bool strict, LoadReport* report) { return load_coco_instances(root, "val", strict, report); });
  fuzz::guard("load_coco_label_names", [&] { load_coco_label_names(root, "val"); });
  return 0;
}
