// Fuzz target: RefCOCO in the REFER layout, refs(unc).p (a Python pickle)
// and instances.json; one input = the pickle, kSeparator, the JSON.
#include "data/refcoco.h"

#include "loader_target.h"

using namespace smoes::data;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = fuzz::work_dir() + "/refcoco";
  auto parts = fuzz::split(fuzz::as_view(data, size), 2);
  fuzz::write_input("refcoco/refs(unc).p", parts[0]);
  fuzz::write_input("refcoco/instances.json", parts[1]);
  for (const char* split : {"all", "testA", "test"})
    fuzz::run_loader("load_refcoco", [&](bool strict, LoadReport* report) {
      return load_refcoco(dir, dir + "/images", split, strict, report, "unc");
    });
  return 0;
}
