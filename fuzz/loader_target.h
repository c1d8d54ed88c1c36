// The loader targets (fuzz/targets/<format>.cpp): each input is read twice,
// tolerant (bad records skipped and counted) and strict (the first bad record
// throws). Besides "nothing but smoes::Error escapes", the two modes must
// agree: when strict mode reads the file without an error, tolerant mode must
// return the same examples and skip none.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "data/example.h"
#include "fuzz_common.h"

namespace fuzz {

using Loader = std::function<std::vector<smoes::data::Example>(bool strict, smoes::data::LoadReport* report)>;

inline void run_loader(const char* name, const Loader& load) {
  smoes::data::LoadReport report;
  std::vector<smoes::data::Example> tolerant, strict;
  bool tolerant_ok = false, strict_ok = false;
  guard(name, [&] {
    tolerant = load(false, &report);
    tolerant_ok = true;
  });
  guard(name, [&] {
    strict = load(true, nullptr);
    strict_ok = true;
  });
  if (!strict_ok) return;
  if (!tolerant_ok) finding(std::string(name) + ": strict mode read the file, tolerant mode threw");
  if (report.skipped != 0)
    finding(std::string(name) + ": strict mode read the file, tolerant mode skipped " + std::to_string(report.skipped) +
            " record(s): " + (report.first_problems.empty() ? "" : report.first_problems.front()));
  if (tolerant.size() != strict.size())
    finding(std::string(name) + ": strict mode gave " + std::to_string(strict.size()) + " examples, tolerant " +
            std::to_string(tolerant.size()));
  for (size_t i = 0; i < strict.size(); ++i)
    if (strict[i].id != tolerant[i].id || strict[i].prompt != tolerant[i].prompt ||
        strict[i].targets != tolerant[i].targets || strict[i].image_paths != tolerant[i].image_paths)
      finding(std::string(name) + ": strict and tolerant modes differ at example " + std::to_string(i));
}

}  // namespace fuzz
