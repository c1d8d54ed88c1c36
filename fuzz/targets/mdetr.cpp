// Fuzz target: MDETR's finetune_<dataset>_<split>.json referring expressions.
#include "data/refcoco.h"
#include "loader_target.h"

using namespace smoes::data;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = fuzz::work_dir();
  const std::string file = fuzz::write_input("mdetr/finetune_refcoco_val.json", fuzz::as_view(data, size));
  fuzz::run_loader("load_mdetr_refexp", [&](bool strict, LoadReport* report) {
    return load_mdetr_refexp(file, dir + "/images", strict, report);
  });
  return 0;
}
