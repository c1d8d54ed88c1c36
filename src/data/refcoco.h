// RefCOCO / RefCOCO+ / RefCOCOg referring expressions in their published formats.
//
// 1. The refer API layout (github.com/lichengunc/refer):
//      <refcoco_dir>/refs(<split_by>).p   Python pickle (Python 2 cPickle,
//        protocol 2): a list of refs {ref_id, ann_id, image_id, split,
//        sent_ids, file_name, category_id, sentences[{tokens, raw, sent_id, sent}]}
//      <refcoco_dir>/instances.json       COCO detection format: images[{id,
//        file_name, width, height}], annotations[{id, image_id, bbox [x,y,w,h],
//        category_id, area, iscrowd}], categories[]
//    split_by is "unc" (RefCOCO, RefCOCO+), "google" or "umd" (RefCOCOg).
//    The pickle is read by data/pickle.h (plain data only, nothing executed).
// 2. MDETR's COCO-style files finetune_refcoco_{train,val,testA,testB}.json:
//      images[{id, file_name, caption, original_id, height, width, ...}] (one
//      image record per expression), annotations[{image_id, bbox, ...}].
//
// One Example per expression: task "refcoco", image_paths {images_dir /
// file_name of the COCO image}, prompt refcoco_prompt(sentence), no targets
// (the grounding target is `box`), box = the referred object's bbox
// [x, y, w, h] in pixels, image_width / image_height from the image record,
// meta: "split", "sentence", "image_id" (the COCO image id), and
//   refer files: id = ref_id (shared by the ref's sentences), meta "ref_id",
//     "sent_id", "ann_id", "category_id" (when given), "raw" (when given);
//   MDETR files: id = the image record's id (one per expression), meta
//     "split" from the file name (finetune_<name>_<split>.json),
//     "dataset_name" (the record's, else <name> from the file name),
//     "image_id" = original_id (when given).
// Examples come in file order (refs, then sentences).
//
// Files are checked against a MANIFEST.json in their folder or its parent.
// strict = true: the first bad record throws smoes::Error naming the file,
// the record ("refs[3] (ref_id 7)", "images[2] (id 5)") and the field;
// strict = false: bad refs / sentences / image records are skipped and
// counted in `report` (records counts every ref, the sentences of the refs
// of the requested split that passed their checks, and the instances images
// and annotations; for MDETR, the image records and annotations). Image and
// annotation fields are checked when a ref uses the record. Image files are
// not opened here. A file that is not in the format at all (not a list of
// refs, a hostile or corrupt pickle, no "images" list) always throws.
#pragma once
#include <string>
#include <vector>

#include "data/example.h"

namespace smoes::data {

extern const char* const kRefCocoPrompt;  // "<image>\nWhere is: {}?"; {} = the expression
std::string refcoco_prompt(const std::string& sentence);

// split: a value of the refs' "split" field ("train", "val", "testA",
// "testB" for refs(unc).p; "test" for refs(umd).p), "test" for every test
// split (testA + testB where the refs have them, as REFER's getRefIds), or
// "all" for every ref.
std::vector<Example> load_refcoco(const std::string& refcoco_dir, const std::string& images_dir,
                                  const std::string& split, bool strict = true, LoadReport* report = nullptr,
                                  const std::string& split_by = "unc");

std::vector<Example> load_mdetr_refexp(const std::string& json_path, const std::string& images_dir,
                                       bool strict = true, LoadReport* report = nullptr);

}  // namespace smoes::data
