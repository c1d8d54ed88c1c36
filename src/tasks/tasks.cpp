#include "tasks/tasks.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include "core/error.h"
#include "core/files.h"
#include "data/aokvqa.h"
#include "data/captions.h"
#include "data/gqa.h"
#include "data/image_check.h"
#include "data/instances.h"
#include "data/nlvr2.h"
#include "data/refcoco.h"
#include "data/snli_ve.h"
#include "data/vcr.h"
#include "data/vqa.h"
#include "tasks/fact_qa.h"
#include "tasks/layouts.h"

namespace smoes::tasks {

namespace fs = std::filesystem;
using data::Example;
using data::LoadReport;

namespace {

std::string path(const std::string& root, const std::string& rel) { return (fs::path(root) / rel).string(); }

// The dataset's own name for a generic split.
std::string split_name(const std::map<std::string, std::string>& names, const std::string& split) {
  auto it = names.find(split);
  return it == names.end() ? split : it->second;
}

std::vector<Example> load_corpus(const std::string& root, const std::string& split) {
  std::string text = read_file(path(root, "corpus/world_corpus.txt"));
  std::vector<Example> out;
  size_t start = 0, line = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    // Every 20th line is held out for validation perplexity.
    bool val = line++ % 20 == 19;
    if (end > start && val == (split != "train")) {
      Example ex;
      ex.task = "corpus";
      ex.id = std::to_string(line);
      ex.targets = {text.substr(start, end - start)};
      out.push_back(std::move(ex));
    }
    start = end + 1;
  }
  return out;
}

// Only the examples of one task name (VCR files hold both Q->A and QA->R).
std::vector<Example> only(std::vector<Example> all, const std::string& task) {
  all.erase(std::remove_if(all.begin(), all.end(), [&](const Example& e) { return e.task != task; }), all.end());
  return all;
}

// The folder holding the loader's <subtype> image folders, from the one found.
std::string parent(const std::string& dir) { return fs::path(dir).parent_path().string(); }

// "<task> <split>": what find_layout names when no layout's files are there.
std::string what(const std::string& task, const std::string& split) { return task + " " + split; }

// RefCOCOg's test is one file; RefCOCO's and RefCOCO+'s is testA + testB,
// each numbering its records from 0, so their ids become "<split>/<id>".
std::vector<Example> load_mdetr(const std::string& task, const std::string& dataset, const std::string& root,
                                const std::string& split, bool strict, LoadReport* r) {
  const bool both = split == "test" && dataset != "refcocog";
  std::vector<Example> out;
  for (const std::string& part : both ? std::vector<std::string>{"testA", "testB"} : std::vector<std::string>{split}) {
    auto found = find_layout(what(task, part), root, mdetr_layouts("finetune_" + dataset + "_" + part + ".json"));
    for (auto& ex : data::load_mdetr_refexp(found.annotations[0], found.images, strict, r)) {
      ex.task = task;
      if (both) ex.id = part + "/" + ex.id;
      out.push_back(std::move(ex));
    }
  }
  return out;
}

// COCO's split names; any other name passes through (e.g. "openclipart").
std::string coco_split(const std::string& split) {
  return split_name({{"train", "train2014"}, {"val", "val2014"}, {"test", "heldout2014"}}, split);
}

// The folder holding annotations/ (the loaders' COCO root).
std::string coco_dir(const Found& found) { return parent(parent(found.annotations[0])); }

std::vector<Task> make_tasks() {
  std::vector<Task> t;
  t.push_back({"coco_captions", Kind::kCaption, [](auto& root, auto& split, bool strict, LoadReport* r) {
                 auto sub = coco_split(split);
                 auto found =
                     find_layout(what("coco_captions", split), root, coco_layouts("captions_" + sub + ".json", sub));
                 return data::load_coco_captions(coco_dir(found), sub, strict, r, found.images);
               }});
  t.push_back({"coco_detection", Kind::kDetection, [](auto& root, auto& split, bool strict, LoadReport* r) {
                 auto sub = coco_split(split);
                 auto found =
                     find_layout(what("coco_detection", split), root, coco_layouts("instances_" + sub + ".json", sub));
                 return data::load_coco_instances(coco_dir(found), sub, strict, r, found.images);
               }});
  t.push_back({"cc", Kind::kCaption, [](auto& root, auto& split, bool strict, LoadReport* r) {
                 auto tsv = split == "train" ? "Train_GCC-training.tsv" : "Validation_GCC-1.1.0-Validation.tsv";
                 return data::load_cc_tsv(find_layout(what("cc", split), root, cc_layouts(tsv)).annotations[0], strict,
                                          r);
               }});
  // REFER's pickles: RefCOCO and RefCOCO+ split by UNC (test = testA +
  // testB), RefCOCOg by UMD (one test split).
  for (auto [dataset, split_by] : {std::pair{"refcoco", "unc"}, {"refcoco+", "unc"}, {"refcocog", "umd"}}) {
    const std::string name = dataset, by = split_by;
    t.push_back({name, Kind::kGrounding, [name, by](auto& root, auto& split, bool strict, LoadReport* r) {
                   auto found = find_layout(what(name, split), root, refer_layouts(name, by));
                   auto examples = data::load_refcoco(parent(found.annotations[0]), found.images, split, strict, r, by);
                   for (auto& e : examples) e.task = name;
                   return examples;
                 }});
  }
  // The same expressions in MDETR's files (mdetr_annotations.tar.gz), which
  // also hold RefCOCO+ and RefCOCOg.
  for (const char* dataset : {"refcoco", "refcoco+", "refcocog"}) {
    const std::string name = std::string(dataset) + "_mdetr";
    t.push_back({name, Kind::kGrounding, [name, dataset](auto& root, auto& split, bool strict, LoadReport* r) {
                   return load_mdetr(name, dataset, root, split, strict, r);
                 }});
    t.back().tokenizer_text = false;
  }
  t.push_back({"vqa_v2", Kind::kVqa, [](auto& root, auto& split, bool strict, LoadReport* r) {
                 auto sub = split_name({{"train", "train2014"}, {"val", "val2014"}, {"test", "val2014"}}, split);
                 auto found = find_layout(what("vqa_v2", split), root, vqa_v2_layouts(sub));
                 return data::load_vqa_v2(found.annotations[0], found.annotations[1], parent(found.images), strict, r);
               }});
  t.push_back({"vqa_cp", Kind::kVqa, [](auto& root, auto& split, bool strict, LoadReport* r) {
                 auto sub = split == "train" ? std::string("train") : std::string("test");
                 auto found = find_layout(what("vqa_cp", split), root, vqa_cp_layouts(sub));
                 return data::load_vqa_cp(found.annotations[0], found.annotations[1], parent(found.images), strict, r);
               }});
  // VQA-CP re-splits VQA v2 train+val by answer prior, so by construction its
  // test images are VQA v2 (and COCO) training images, in the real dataset as
  // here; holding them out would empty COCO's training set. Its test split
  // measures the prior shift, not unseen images (docs/world.md).
  t.back().eval_splits = {};
  t.push_back(
      {"gqa", Kind::kExact, [](auto& root, auto& split, bool strict, LoadReport* r) {
         auto found = find_layout(what("gqa", split), root, gqa_layouts(split_name({{"test", "testdev"}}, split)));
         return data::load_gqa(found.annotations[0], found.images, strict, r);
       }});
  t.push_back({"nlvr2", Kind::kChoice, [](auto& root, auto& split, bool strict, LoadReport* r) {
                 auto sub = split_name({{"val", "dev"}, {"test", "test1"}}, split);
                 auto found = find_layout(what("nlvr2", split), root, nlvr2_layouts(sub));
                 return data::load_nlvr2(found.annotations[0], parent(found.images), strict, r);
               }});
  t.push_back(
      {"snli_ve", Kind::kChoice, [](auto& root, auto& split, bool strict, LoadReport* r) {
         auto found = find_layout(what("snli_ve", split), root, snli_ve_layouts(split_name({{"val", "dev"}}, split)));
         return data::load_snli_ve(found.annotations[0], found.images, strict, r);
       }});
  for (const char* name : {"vcr_qa", "vcr_qar"}) {
    t.push_back({name, Kind::kChoice, [name](auto& root, auto& split, bool strict, LoadReport* r) {
                   auto found = find_layout(what(name, split), root, vcr_layouts(split == "train" ? "train" : "val"));
                   return only(data::load_vcr(found.annotations[0], found.images, strict, r), name);
                 }});
  }
  auto aokvqa = [](auto& root, auto& split, bool strict, LoadReport* r) {
    auto found = find_layout(what("aokvqa", split), root, aokvqa_layouts(split == "train" ? "train" : "val"));
    return data::load_aokvqa(found.annotations[0], parent(found.images), strict, r);
  };
  t.push_back({"aokvqa", Kind::kChoice, aokvqa});
  // The same questions answered freely, scored against the 10 direct answers.
  t.push_back({"aokvqa_da", Kind::kVqa, [aokvqa](auto& root, auto& split, bool strict, LoadReport* r) {
                 auto examples = aokvqa(root, split, strict, r);
                 for (auto& e : examples) e.task = "aokvqa_da";
                 return examples;
               }});
  t.push_back(
      {"corpus", Kind::kText, [](auto& root, auto& split, bool, LoadReport*) { return load_corpus(root, split); }});
  // Evaluation only (no files): the world's facts, asked without an image.
  t.push_back({"fact_qa", Kind::kChoice,
               [](auto&, auto&, bool, LoadReport* r) {
                 auto examples = fact_qa_examples();
                 if (r) r->records += examples.size();
                 return examples;
               },
               /*eval_only=*/true});
  return t;
}

}  // namespace

const std::vector<Task>& all_tasks() {
  static const std::vector<Task> tasks = make_tasks();
  return tasks;
}

const Task& find_task(const std::string& name) {
  std::string known;
  for (const auto& t : all_tasks()) {
    if (t.name == name) return t;
    known += (known.empty() ? "" : ", ") + t.name;
  }
  throw Error("unknown task '" + name + "' (known: " + known + ")");
}

std::vector<Example> load_with_images(const Task& task, const std::string& root, const std::string& split, bool strict,
                                      LoadReport* report) {
  auto examples = task.load(root, split, strict, report);
  data::check_images(examples, strict, report);
  return examples;
}

std::string image_key(const std::string& p) { return fs::absolute(fs::path(p)).lexically_normal().string(); }

std::set<std::string> evaluation_images(const std::string& root) {
  std::set<std::string> out;
  for (const auto& task : all_tasks())
    for (const auto& split : task.eval_splits) {
      std::vector<Example> examples;
      try {
        examples = task.load(root, split, /*strict=*/false, nullptr);
      } catch (const Error&) {
        continue;  // this dataset is not under root
      }
      for (const auto& ex : examples)
        for (const auto& p : ex.image_paths) out.insert(image_key(p));
    }
  return out;
}

size_t remove_examples_on(std::vector<Example>& examples, const std::set<std::string>& held_out) {
  auto uses_held_out = [&](const Example& ex) {
    return std::any_of(ex.image_paths.begin(), ex.image_paths.end(),
                       [&](const std::string& p) { return held_out.count(image_key(p)) > 0; });
  };
  const size_t before = examples.size();
  examples.erase(std::remove_if(examples.begin(), examples.end(), uses_held_out), examples.end());
  return before - examples.size();
}

std::string without_image_tags(std::string text) {
  static const std::string kTag = "<image>";
  for (size_t at; (at = text.find(kTag)) != std::string::npos;) text.erase(at, kTag.size());
  return text;
}

std::string arranged_prompt(const std::string& prompt, const std::string& image_position) {
  if (image_position == "first") return prompt;
  if (image_position != "last") throw Error("data.image_position: unknown position '" + image_position + "'");
  static const std::string kTag = "<image>";
  std::string text = without_image_tags(prompt);
  while (!text.empty() && text.front() == '\n') text.erase(0, 1);  // the newlines that followed the tags
  size_t images = 0;
  for (size_t at = prompt.find(kTag); at != std::string::npos; at = prompt.find(kTag, at + kTag.size())) ++images;
  for (size_t i = 0; i < images; ++i) text += "\n" + kTag;
  return text;
}

std::string training_text(const std::string& root) {
  std::string text;
  auto add = [&](const std::string& raw) {
    std::string line = without_image_tags(raw);
    for (char& c : line)
      if (c == '\n') c = ' ';
    if (!line.empty()) text += line + "\n";
  };
  for (const auto& task : all_tasks()) {
    if (task.eval_only || !task.tokenizer_text) continue;
    std::vector<Example> examples;
    try {
      examples = task.load(root, "train", /*strict=*/false, nullptr);
    } catch (const Error& e) {
      spdlog::info("tokenizer text: skipping {} ({})", task.name, e.what());
      continue;
    }
    for (const auto& ex : examples) {
      add(ex.prompt);
      for (const auto& t : ex.targets) add(t);
      for (const auto& c : ex.choices) add(c);
    }
  }
  return text;
}

std::array<int, 4> box_to_bins(const std::vector<double>& box, int width, int height, int bins) {
  if (box.size() != 4 || width <= 0 || height <= 0) throw Error("grounding: need a 4-number box and the image size");
  auto bin = [&](double v, int side) { return std::clamp(int(std::floor(v / side * bins)), 0, bins - 1); };
  return {bin(box[0], width), bin(box[1], height), bin(box[0] + box[2], width), bin(box[1] + box[3], height)};
}

std::string box_to_location_text(const std::vector<double>& box, int width, int height, int bins) {
  std::string text;
  for (int v : box_to_bins(box, width, height, bins)) text += "<loc_" + std::to_string(v) + ">";
  return text;
}

std::vector<double> location_bins_to_box(const std::vector<int>& b, int width, int height, int bins) {
  if (b.size() != 4) throw Error("grounding: need 4 location bins");
  auto centre = [&](int v, int side) { return (v + 0.5) / bins * side; };
  double x1 = centre(b[0], width), y1 = centre(b[1], height), x2 = centre(b[2], width), y2 = centre(b[3], height);
  return {std::min(x1, x2), std::min(y1, y2), std::abs(x2 - x1), std::abs(y2 - y1)};
}

namespace {

// Pix2Seq-style: every object as "name<loc><loc><loc><loc>", in reading order
// so the model can scan the image instead of guessing an arbitrary order.
std::string detection_text(const Example& ex, int location_bins) {
  auto objects = ex.objects;
  std::stable_sort(objects.begin(), objects.end(), [](const data::LabelledBox& a, const data::LabelledBox& b) {
    return std::make_pair(a.box[1], a.box[0]) < std::make_pair(b.box[1], b.box[0]);
  });
  std::string text;
  for (const auto& o : objects)
    text += (text.empty() ? "" : " ") + o.label +
            box_to_location_text(o.box, ex.image_width, ex.image_height, location_bins);
  return text.empty() ? "nothing" : text;
}

}  // namespace

std::string training_target(const Task& task, const Example& ex, int location_bins, std::mt19937_64& rng) {
  switch (task.kind) {
    case Kind::kDetection:
      return detection_text(ex, location_bins);
    case Kind::kGrounding:
      return box_to_location_text(ex.box, ex.image_width, ex.image_height, location_bins);
    case Kind::kChoice:
      if (ex.answer_index < 0 || ex.answer_index >= int(ex.choices.size()))
        throw Error(task.name + " example " + ex.id + ": no correct choice to train on");
      return ex.choices[ex.answer_index];
    case Kind::kVqa: {
      auto mc = ex.meta.find("multiple_choice_answer");
      if (mc != ex.meta.end()) return mc->second;
      break;
    }
    default:
      break;
  }
  if (ex.targets.empty()) throw Error(task.name + " example " + ex.id + ": no target text");
  if (task.kind == Kind::kCaption) return ex.targets[rng() % ex.targets.size()];
  return ex.targets.front();
}

}  // namespace smoes::tasks
