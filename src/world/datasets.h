// The dataset writers of `smoes world generate`, one file per dataset family.
// Each draws from its own forked Rng stream (Context::stream), so adding or
// resizing one dataset never changes another's bytes.
#pragma once
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "world/output.h"

namespace smoes::world {

// coco.cpp: coco/images/<split>/COCO_<split>_%012d.png, captions_<split>.json and
// instances_<split>.json for train2014 / val2014 / heldout2014; returns each split's images.
std::map<std::string, std::vector<SceneImage>> write_coco(const Context& c);
// coco.cpp: cc/Train_GCC-training.tsv + cc/Validation_GCC-1.1.0-Validation.tsv and their images.
void write_cc(const Context& c);

// COCO detection format shared by COCO instances and RefCOCO's instances.json.
int category_id(const std::string& shape);
nlohmann::json coco_categories();
int64_t annotation_id(int64_t image_id, size_t object_index);
nlohmann::json instance_annotation(const Scene& scene, size_t object_index, int64_t image_id);
nlohmann::json instances_document(const std::vector<SceneImage>& images, const std::string& description);

// refer.cpp: refcoco/refs(unc).p + refcoco/instances.json and
// mdetr/finetune_refcoco_{train,val,testA,testB}.json over COCO train2014.
void write_refcoco(const Context& c, const std::vector<SceneImage>& train2014);

// vqa.cpp: VQA v2 over COCO train2014 / val2014. Returns every question with
// its annotation (for VQA-CP), each carrying "coco_split".
struct VqaRecord {
  nlohmann::json question, annotation;
};
std::vector<VqaRecord> write_vqa(const Context& c, const std::vector<SceneImage>& train2014,
                                 const std::vector<SceneImage>& val2014);
// vqacp.cpp: vqacp/vqacp_v2_{train,test}_{questions,annotations}.json re-split from `records`.
void write_vqacp(const Context& c, const std::vector<VqaRecord>& records);

void write_gqa(const Context& c);      // gqa.cpp
void write_nlvr2(const Context& c);    // nlvr2.cpp
void write_snli_ve(const Context& c);  // snli_ve.cpp
void write_vcr(const Context& c);      // vcr.cpp
void write_aokvqa(const Context& c);   // aokvqa.cpp

}  // namespace smoes::world
