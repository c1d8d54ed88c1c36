// What every question's answer is built from: per-seed values, their
// estimates and paired differences, verdict lines, and gnuplot figures.
// Internal to src/study (rq*.cpp).
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "study/answers.h"
#include "study/stats.h"

namespace smoes::study::kit {

using BySeed = std::map<int, double>;

// The value on every seed that has it.
BySeed collect(Results& r, const std::string& model, const Step& step, const std::string& pointer);
// f(a[s], b[s]) on the seeds both have.
BySeed zip(const BySeed& a, const BySeed& b, const std::function<double(double, double)>& f);
// The mean of several per-seed values, on the seeds all of them have.
BySeed mean_of(const std::vector<BySeed>& parts);

Estimate estimate(const BySeed& v);
Estimate difference(const BySeed& a, const BySeed& b);  // paired on common seeds

// "claim: estimate -> verdict" (the verdict rule of stats.h).
std::string claim(const std::string& text, const Estimate& e, bool positive = true);

// "/metrics/<task>/<headline metric>" of an eval file.
std::string metric_pointer(const std::string& task);

// A figure under <study>/figures/: renders name.png (and .svg) with gnuplot.
// Adds it to the answer and returns true; false when gnuplot is missing (noted in the answer).
bool figure(Results& r, Answer& a, const std::string& name, const std::string& caption, const std::string& data,
            const std::string& body);

// Training loss against step of each (label, model) on the first seed, from
// its metrics.jsonl.
void learning_curves(Results& r, Answer& a, const std::string& name,
                     const std::vector<std::pair<std::string, std::string>>& label_model);

// The label -> model pairs of a question field (JSON object order: by label).
std::vector<std::pair<std::string, std::string>> roles(const nlohmann::json& q, const char* key);

}  // namespace smoes::study::kit

namespace smoes::study {
Answer answer_rq1(Results& r, const nlohmann::json& q);
Answer answer_rq2(Results& r, const nlohmann::json& q);
Answer answer_rq3(Results& r, const nlohmann::json& q);
Answer answer_rq4(Results& r, const nlohmann::json& q);
Answer answer_rq5(Results& r, const nlohmann::json& q);
}  // namespace smoes::study
