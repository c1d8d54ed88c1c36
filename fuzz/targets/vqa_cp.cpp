// Fuzz target: VQA-CP v2 (questions + annotations lists); one input = the questions
// file, kSeparator, the annotations file. Also read without annotations.
#include "data/vqa.h"
#include "loader_target.h"

using namespace smoes::data;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = fuzz::work_dir();
  auto parts = fuzz::split(fuzz::as_view(data, size), 2);
  const std::string questions = fuzz::write_input("vqacp/vqacp_v2_test_questions.json", parts[0]);
  const std::string annotations = fuzz::write_input("vqacp/vqacp_v2_test_annotations.json", parts[1]);
  fuzz::run_loader("load_vqa_cp", [&](bool strict, LoadReport* report) {
    return load_vqa_cp(questions, annotations, dir + "/images", strict, report);
  });
  fuzz::run_loader("load_vqa_cp (no annotations)", [&](bool strict, LoadReport* report) {
    return load_vqa_cp(questions, "", dir + "/images", strict, report);
  });
  return 0;
}
