// Fuzz target: GQA <split>_balanced_questions.json.
#include "data/gqa.h"

#include "loader_target.h"

using namespace smoes::data;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = fuzz::work_dir();
  const std::string file = fuzz::write_input("gqa/testdev_balanced_questions.json", fuzz::as_view(data, size));
  fuzz::run_loader("load_gqa",
                   [&](bool strict, LoadReport* report) { return load_gqa(file, dir + "/images", strict, report); });
  return 0;
}
