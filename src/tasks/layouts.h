// Where each task's files sit under a dataset root (docs/data.md, "The
// layout a dataset root needs"). ROOT is one folder for every dataset, so one
// data.root serves a whole mixture. A task tries, in order, the layout
// `smoes world generate` writes, then the official downloads as their archives
// unpack: into the dataset's folder under ROOT (coco/, vqa/, gqa/, ...) or into
// ROOT itself. Nothing needs moving or renaming.
#pragma once
#include <string>
#include <vector>

namespace smoes::tasks {

// One way a task's files can sit under ROOT; paths relative to ROOT.
struct Layout {
  std::vector<std::string> annotations;  // all must exist
  std::vector<std::string> images;       // image folders, in order of preference
};

// What find_layout found, as paths under root.
struct Found {
  std::vector<std::string> annotations;
  std::string images;  // "" when the layout names no image folder
};

// The first layout whose annotation files all exist, with its first existing
// image folder, else its first one (annotations never need the images: a
// missing folder is reported by data/image_check.h where images are needed).
// No layout's files present: throws smoes::Error naming `what` and every
// annotation file tried.
Found find_layout(const std::string& what, const std::string& root, const std::vector<Layout>& layouts);

// The tables, per task. `s` is the dataset's own split name.
std::vector<Layout> coco_layouts(const std::string& annotation_file, const std::string& s);  // captions_<s>.json, ...
std::vector<Layout> cc_layouts(const std::string& tsv);
std::vector<Layout> refer_layouts(const std::string& dataset, const std::string& split_by);  // refs(<split_by>).p
std::vector<Layout> mdetr_layouts(const std::string& file);  // finetune_<d>_<split>.json
// COCO image folders: the loaders append the subtype, so the caller passes the parent.
std::vector<Layout> vqa_v2_layouts(const std::string& s);  // train2014, val2014
std::vector<Layout> vqa_cp_layouts(const std::string& s);  // train, test
std::vector<Layout> gqa_layouts(const std::string& s);
// <images>/<s> as found; the loader wants its parent.
std::vector<Layout> nlvr2_layouts(const std::string& s);
std::vector<Layout> snli_ve_layouts(const std::string& s);
std::vector<Layout> vcr_layouts(const std::string& s);
// <coco>/<s>2017 as found; the loader wants its parent.
std::vector<Layout> aokvqa_layouts(const std::string& s);

}  // namespace smoes::tasks
