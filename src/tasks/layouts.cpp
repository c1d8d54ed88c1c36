#include "tasks/layouts.h"

#include <filesystem>

#include "core/error.h"

namespace smoes::tasks {

namespace fs = std::filesystem;

namespace {

std::string under(const std::string& root, const std::string& rel) { return (fs::path(root) / rel).string(); }

bool exists(const std::string& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

// COCO image folder <sub> (train2014, val2014, ...): `first`, then the world's,
// COCO's zips unpacked in coco/ or in ROOT, REFER's data/images/mscoco/images/
// and the VQA API's Images/mscoco/. `first` is the folder the layout's own
// download names, the one examples carry when no folder exists.
std::vector<std::string> coco2014(const std::string& sub, const std::string& first) {
  std::vector<std::string> out{first};
  for (const char* dir : {"coco/images/", "coco/", "", "images/mscoco/images/", "Images/mscoco/"})
    if (dir + sub != first) out.push_back(dir + sub);
  return out;
}

}  // namespace

Found find_layout(const std::string& what, const std::string& root, const std::vector<Layout>& layouts) {
  std::string tried;
  for (const auto& layout : layouts) {
    Found found;
    for (const auto& rel : layout.annotations) found.annotations.push_back(under(root, rel));
    bool all = true;
    for (const auto& file : found.annotations) {
      all = all && exists(file);
      tried += (tried.empty() ? "" : ", ") + file;
    }
    if (!all) continue;
    for (const auto& rel : layout.images)
      if (exists(under(root, rel))) {
        found.images = under(root, rel);
        break;
      }
    if (found.images.empty() && !layout.images.empty()) found.images = under(root, layout.images.front());
    return found;
  }
  throw Error(what + ": no annotation files under " + root + " (tried " + tried + ")");
}

std::vector<Layout> coco_layouts(const std::string& annotation_file, const std::string& s) {
  const std::string file = "annotations/" + annotation_file;
  return {{{"coco/" + file}, coco2014(s, "coco/images/" + s)},  // the world's, or COCO's zips in coco/
          {{file}, coco2014(s, s)}};                            // COCO's zips unpacked in ROOT
}

std::vector<Layout> cc_layouts(const std::string& tsv) { return {{{"cc/" + tsv}, {}}, {{tsv}, {}}}; }

// REFER's data/ folder as ROOT holds <dataset>/ as the world writes refcoco/;
// only the images differ.
std::vector<Layout> refer_layouts(const std::string& dataset, const std::string& split_by) {
  return {{{dataset + "/refs(" + split_by + ").p", dataset + "/instances.json"},
           coco2014("train2014", "coco/images/train2014")}};
}

// MDETR's images are COCO's train2014, wherever they sit.
std::vector<Layout> mdetr_layouts(const std::string& file) {
  const auto images = coco2014("train2014", "coco/images/train2014");
  return {{{"mdetr_annotations/" + file}, images},  // as mdetr_annotations.tar.gz unpacks
          {{"mdetr/" + file}, images}};             // the world's
}

std::vector<Layout> vqa_v2_layouts(const std::string& s) {
  const std::string q = "v2_OpenEnded_mscoco_" + s + "_questions.json", a = "v2_mscoco_" + s + "_annotations.json";
  return {{{"vqa/" + q, "vqa/" + a}, coco2014(s, "coco/images/" + s)},  // the world's, or the zips in vqa/
          {{q, a}, coco2014(s, s)},                                     // the zips unpacked in ROOT
          {{"Questions/" + q, "Annotations/" + a}, coco2014(s, "Images/mscoco/" + s)}};  // the VQA API's
}

// VQA-CP re-splits VQA v2 train+val: records name train2014 or val2014.
std::vector<Layout> vqa_cp_layouts(const std::string& s) {
  const std::string q = "vqacp_v2_" + s + "_questions.json", a = "vqacp_v2_" + s + "_annotations.json";
  return {{{"vqacp/" + q, "vqacp/" + a}, coco2014("train2014", "coco/images/train2014")},
          {{q, a}, coco2014("train2014", "train2014")}};
}

std::vector<Layout> gqa_layouts(const std::string& s) {
  const std::string file = s + "_balanced_questions.json";
  return {{{"gqa/questions/" + file}, {"gqa/images"}},  // the world's
          {{"gqa/" + file}, {"gqa/images"}},            // questions1.2.zip and images.zip in gqa/
          {{file}, {"images"}}};                        // ... unpacked in ROOT
}

// The annotations of lil-lab/nlvr's nlvr2/data/ (or the world's nlvr2/<s>.json);
// train_img.zip unpacks to images/train/<directory>/, dev_img.zip to dev/,
// test1_img.zip to test1/, in nlvr2/ or in ROOT.
std::vector<Layout> nlvr2_layouts(const std::string& s) {
  const std::vector<std::string> images = {"nlvr2/images/" + s, "nlvr2/" + s, "images/" + s, s};
  return {{{"nlvr2/" + s + ".json"}, images}, {{"nlvr2/data/" + s + ".json"}, images}};
}

// Flickr30k's flickr30k-images.tar.gz unpacks to flickr30k-images/.
std::vector<Layout> snli_ve_layouts(const std::string& s) {
  const std::string file = "snli_ve_" + s + ".jsonl";
  return {{{"snli_ve/" + file}, {"snli_ve/flickr30k_images", "snli_ve/flickr30k-images", "flickr30k-images"}},
          {{file}, {"flickr30k-images", "snli_ve/flickr30k-images"}}};
}

// vcr1annots.zip holds <s>.jsonl (in vcr/ as the world writes, or in a
// vcr1annots/ folder), vcr1images.zip unpacks to vcr1images/.
std::vector<Layout> vcr_layouts(const std::string& s) {
  const std::vector<std::string> images = {"vcr/vcr1images", "vcr1images"};
  return {{{"vcr/" + s + ".jsonl"}, images},
          {{"vcr/vcr1annots/" + s + ".jsonl"}, images},
          {{"vcr1annots/" + s + ".jsonl"}, {"vcr1images", "vcr/vcr1images"}}};
}

// A-OKVQA's README: datasets/aokvqa/aokvqa_v1p0_<s>.json and COCO 2017 in
// datasets/coco/<s>2017/; ROOT may be that datasets/ folder or hold it.
std::vector<Layout> aokvqa_layouts(const std::string& s) {
  const std::string file = "aokvqa_v1p0_" + s + ".json", images = s + "2017";
  return {{{"aokvqa/" + file}, {"aokvqa/images/" + images, "coco/" + images, images}},
          {{"datasets/aokvqa/" + file}, {"datasets/coco/" + images}}};
}

}  // namespace smoes::tasks
