// Every dataset of the tiny world: files exist, parse with the published
// fields and the expected counts, and a sample of answers recomputed from the
// scene graphs agrees with the files.
#include <gtest/gtest.h>

#include <set>

#include "data/pickle.h"
#include "world/knowledge.h"
#include "world_fixture.h"

using namespace world_test;
using smoes::world::count;
using smoes::world::resolve;

namespace {

const json& manifest() {
  static const json m = read_json(tiny_world() + "/MANIFEST.json");
  return m;
}

int64_t counted(const std::string& dataset, const std::string& split, const std::string& what) {
  return manifest()["datasets"][dataset][split][what].get<int64_t>();
}

std::string coco_file(const std::string& split, int64_t id) {
  return smoes::world::image_name(("COCO_" + split + "_%012lld.png").c_str(), id);
}

// The one object a reference picks out (fails the test otherwise).
int one_object(const Scene& s, const std::string& phrase) {
  auto hits = resolve(s, parse_ref(phrase));
  EXPECT_EQ(hits.size(), 1u) << "'" << phrase << "' is ambiguous or empty";
  return hits.size() == 1 ? hits[0] : -1;
}

}  // namespace

TEST(WorldDatasets, ManifestListsEveryDatasetWithCounts) {
  for (const char* d : {"coco", "cc", "refcoco", "vqa", "vqacp", "gqa", "nlvr2", "snli_ve", "vcr", "aokvqa", "corpus"})
    EXPECT_TRUE(manifest()["datasets"].contains(d)) << d;
  for (const auto& [rel, hash] : manifest()["files"].items())
    ASSERT_EQ(smoes::sha256_file(tiny_world() + "/" + rel), hash) << rel;
}

TEST(WorldDatasets, CocoInstancesMatchTheCaptionImagesAndScenes) {
  const auto root = tiny_world();
  for (const char* split : {"train2014", "val2014", "heldout2014"}) {
    auto caps = read_json(root + "/coco/annotations/captions_" + std::string(split) + ".json");
    auto inst = read_json(root + "/coco/annotations/instances_" + std::string(split) + ".json");
    EXPECT_EQ(inst["images"], caps["images"]);
    ASSERT_EQ(inst["categories"].size(), 4u);
    size_t objects = 0;
    for (const auto& img : inst["images"])
      objects += scene_of(root, "coco", split, "coco/images/" + std::string(split) + "/" + img["file_name"].get<std::string>())
                     .objects.size();
    EXPECT_EQ(inst["annotations"].size(), objects);
    for (const auto& a : inst["annotations"]) {
      const auto& b = a["bbox"];
      EXPECT_GE(b[0].get<double>(), 0);
      EXPECT_LE(b[0].get<double>() + b[2].get<double>(), 64.0 + 1e-6);
      EXPECT_GT(a["area"].get<double>(), 0);
      EXPECT_EQ(a["iscrowd"], 0);
      EXPECT_GE(a["category_id"].get<int>(), 1);
    }
  }
}

TEST(WorldDatasets, RefcocoPickleInstancesAndMdetrAgree) {
  const auto root = tiny_world();
  json refs = smoes::data::unpickle_file(root + "/refcoco/refs(unc).p");
  json inst = read_json(root + "/refcoco/instances.json");
  ASSERT_TRUE(refs.is_array());
  std::map<int64_t, json> anns;
  for (const auto& a : inst["annotations"]) anns[a["id"].get<int64_t>()] = a;
  std::map<std::string, int> per_split;
  std::set<int64_t> sent_ids;
  for (const auto& r : refs) {
    for (const char* key : {"ref_id", "ann_id", "image_id", "split", "sent_ids", "file_name", "category_id", "sentences"})
      ASSERT_TRUE(r.contains(key)) << key;
    const std::string split = r["split"];
    per_split[split]++;
    ASSERT_TRUE(anns.count(r["ann_id"].get<int64_t>()));
    const auto& ann = anns[r["ann_id"].get<int64_t>()];
    EXPECT_EQ(ann["image_id"], r["image_id"]);
    EXPECT_EQ(ann["category_id"], r["category_id"]);
    const int64_t image_id = r["image_id"];
    Scene s = scene_of(root, "coco", "train2014", "coco/images/train2014/" + coco_file("train2014", image_id));
    const int object = int(r["ann_id"].get<int64_t>() - image_id * 100 - 1);
    ASSERT_LT(object, int(s.objects.size()));
    if (split == "testA") EXPECT_EQ(s.objects[object].shape, "circle");
    if (split == "testB") EXPECT_NE(s.objects[object].shape, "circle");
    ASSERT_GE(r["sentences"].size(), 1u);
    EXPECT_EQ(r["sentences"].size(), r["sent_ids"].size());
    for (const auto& sent : r["sentences"]) {
      EXPECT_TRUE(sent_ids.insert(sent["sent_id"].get<int64_t>()).second);
      EXPECT_EQ(sent["tokens"], smoes::world::word_tokens(sent["sent"].get<std::string>()));
      EXPECT_EQ(one_object(s, sent["sent"]), object) << sent["sent"];  // unambiguous and right
    }
  }
  for (const char* split : {"train", "val", "testA", "testB"}) {
    EXPECT_GT(per_split[split], 0) << split;
    EXPECT_EQ(per_split[split], counted("refcoco", split, "refs"));
    auto mdetr = read_json(root + "/mdetr/finetune_refcoco_" + std::string(split) + ".json");
    EXPECT_EQ(mdetr["images"].size(), size_t(counted("refcoco", split, "sentences")));
    ASSERT_EQ(mdetr["images"].size(), mdetr["annotations"].size());
    for (size_t k = 0; k < mdetr["images"].size(); ++k) {
      const auto &img = mdetr["images"][k], &a = mdetr["annotations"][k];
      EXPECT_EQ(img["dataset_name"], "refcoco");
      EXPECT_EQ(a["image_id"], img["id"]);
      EXPECT_TRUE(fs::exists(root + "/coco/images/train2014/" + img["file_name"].get<std::string>()));
      EXPECT_EQ(a["bbox"], anns[a["original_id"].get<int64_t>()]["bbox"]);
      const auto span = a["tokens_positive"][0];
      EXPECT_LE(span[1].get<size_t>(), img["caption"].get<std::string>().size());
    }
  }
}

TEST(WorldDatasets, VqaAnswersAreConsistentWithTheScenes) {
  const auto root = tiny_world();
  int checked = 0;
  for (const char* split : {"train2014", "val2014"}) {
    auto qs = read_json(root + "/vqa/v2_OpenEnded_mscoco_" + std::string(split) + "_questions.json");
    auto as = read_json(root + "/vqa/v2_mscoco_" + std::string(split) + "_annotations.json");
    EXPECT_EQ(qs["data_subtype"], split);
    ASSERT_EQ(qs["questions"].size(), as["annotations"].size());
    EXPECT_EQ(int64_t(qs["questions"].size()), counted("vqa", split, "questions"));
    for (size_t k = 0; k < qs["questions"].size(); ++k) {
      const auto &q = qs["questions"][k], &a = as["annotations"][k];
      ASSERT_EQ(q["question_id"], a["question_id"]);
      ASSERT_EQ(a["answers"].size(), 10u);
      std::map<std::string, int> votes;
      for (size_t i = 0; i < 10; ++i) {
        EXPECT_EQ(a["answers"][i]["answer_id"], i + 1);
        votes[a["answers"][i]["answer"]]++;
      }
      const std::string mca = a["multiple_choice_answer"];
      for (const auto& [ans, n] : votes) EXPECT_LE(n, votes[mca]);
      const std::set<std::string> types = {"yes/no", "number", "other"};
      EXPECT_TRUE(types.count(a["answer_type"]));
      Scene s = scene_of(root, "coco", split, "coco/images/" + std::string(split) + "/" + coco_file(split, q["image_id"]));
      const std::string text = q["question"];
      std::string np;
      if (between(text, "What color is the ", "?", np)) {
        EXPECT_EQ(s.objects[one_object(s, np)].colour, mca) << text;
        ++checked;
      } else if (between(text, "What shape is the ", "?", np)) {
        EXPECT_EQ(s.objects[one_object(s, np)].shape, mca) << text;
        ++checked;
      } else if (between(text, "What is the ", " made of?", np)) {
        EXPECT_EQ(s.objects[one_object(s, np)].material, mca) << text;
        ++checked;
      } else if (between(text, "How many ", " are there?", np)) {
        Filter f = parse_filter(np.substr(0, np.size() - 1));  // "red circles" -> "red circle"
        if (np == "objects") f = Filter{};
        EXPECT_EQ(std::to_string(count(s, f)), mca) << text;
        ++checked;
      } else if (between(text, "Is there ", "?", np)) {
        EXPECT_EQ(count(s, parse_filter(np)) > 0 ? "yes" : "no", mca) << text;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 30);
}

TEST(WorldDatasets, VqaCpPriorsDifferBetweenTrainAndTest) {
  const auto root = tiny_world();
  std::map<std::string, std::map<std::string, double>> prior[2];
  size_t total = 0;
  const char* names[2] = {"train", "test"};
  for (int s = 0; s < 2; ++s) {
    auto qs = read_json(root + "/vqacp/vqacp_v2_" + std::string(names[s]) + "_questions.json");
    auto as = read_json(root + "/vqacp/vqacp_v2_" + std::string(names[s]) + "_annotations.json");
    ASSERT_TRUE(qs.is_array());
    ASSERT_EQ(qs.size(), as.size());
    total += qs.size();
    for (size_t k = 0; k < qs.size(); ++k) {
      EXPECT_TRUE(qs[k]["coco_split"] == "train2014" || qs[k]["coco_split"] == "val2014");
      EXPECT_EQ(qs[k]["coco_split"], as[k]["coco_split"]);
      EXPECT_EQ(qs[k]["question_id"], as[k]["question_id"]);
      prior[s][as[k]["question_type"]][as[k]["multiple_choice_answer"]] += 1;
    }
  }
  EXPECT_EQ(int64_t(total), counted("vqa", "train2014", "questions") + counted("vqa", "val2014", "questions"));
  // The yes/no prior of "is there a" flips; the measured shift is large for most types.
  const auto& shift = manifest()["datasets"]["vqacp"]["prior_shift"];
  int shifted = 0;
  for (const auto& [type, v] : shift.items()) shifted += v["total_variation"].get<double>() > 0.3;
  EXPECT_GE(shifted, int(shift.size()) / 2) << shift.dump();
  auto frac_yes = [&](int s) {
    auto& d = prior[s]["is there a"];
    return d["yes"] / std::max(1.0, d["yes"] + d["no"]);
  };
  EXPECT_GT(std::abs(frac_yes(0) - frac_yes(1)), 0.25);
}

TEST(WorldDatasets, GqaQuestionsHaveTypesProgramsAndRightAnswers) {
  const auto root = tiny_world();
  std::set<std::string> structural;
  int checked = 0, yes = 0, no = 0;
  for (const char* split : {"train", "val", "testdev"}) {
    auto doc = read_json(root + "/gqa/questions/" + std::string(split) + "_balanced_questions.json");
    ASSERT_TRUE(doc.is_object());
    EXPECT_EQ(int64_t(doc.size()), counted("gqa", split, "questions"));
    for (const auto& [qid, q] : doc.items()) {
      for (const char* key : {"imageId", "question", "answer", "fullAnswer", "isBalanced", "types", "semantic", "annotations"})
        ASSERT_TRUE(q.contains(key)) << key;
      structural.insert(q["types"]["structural"].get<std::string>());
      const std::string rel = "gqa/images/" + q["imageId"].get<std::string>() + ".png";
      ASSERT_TRUE(fs::exists(root + "/" + rel));
      Scene s = scene_of(root, "gqa", split, rel);
      const std::string text = q["question"], answer = q["answer"];
      yes += answer == "yes", no += answer == "no";
      std::string np;
      if (between(text, "What color is the ", "?", np)) {
        EXPECT_EQ(s.objects[one_object(s, np)].colour, answer) << text;
        ++checked;
      } else if (between(text, "What shape is the ", "?", np)) {
        EXPECT_EQ(s.objects[one_object(s, np)].shape, answer) << text;
        ++checked;
      } else if (between(text, "Is there ", " in the picture?", np) && np.find(" or ") == std::string::npos &&
                 np.find(" and ") == std::string::npos) {  // and/or: logical questions, not one filter
        EXPECT_EQ(count(s, parse_filter(np)) > 0 ? "yes" : "no", answer) << text;
        ++checked;
      }
    }
  }
  for (const char* t : {"query", "verify", "logical", "choose", "compare"}) EXPECT_TRUE(structural.count(t)) << t;
  EXPECT_GT(checked, 10);
  EXPECT_GT(yes, 0.3 * (yes + no));
  EXPECT_GT(no, 0.3 * (yes + no));
}

TEST(WorldDatasets, Nlvr2SentencesAreTrueForSomePairsAndFalseForOthers) {
  const auto root = tiny_world();
  for (const char* split : {"train", "dev", "test1"}) {
    auto lines = read_jsonl(root + "/nlvr2/" + std::string(split) + ".json");
    EXPECT_EQ(int64_t(lines.size()), counted("nlvr2", split, "statements"));
    std::map<std::string, std::set<std::string>> labels;  // set + sentence -> labels
    int checked = 0;
    for (const auto& l : lines) {
      const std::string id = l["identifier"], label = l["label"];
      ASSERT_TRUE(label == "True" || label == "False");
      EXPECT_EQ(id.rfind(std::string(split) + "-", 0), 0u);
      const auto last = id.rfind('-'), pair_dash = id.rfind('-', last - 1);
      const std::string set = id.substr(0, pair_dash), prefix = id.substr(0, last);
      labels[set + "|" + l["sentence"].get<std::string>()].insert(label);
      const std::string left = "nlvr2/images/" + std::string(split) + "/" + prefix + "-img0.png";
      const std::string right = "nlvr2/images/" + std::string(split) + "/" + prefix + "-img1.png";
      ASSERT_TRUE(fs::exists(root + "/" + left) && fs::exists(root + "/" + right)) << id;
      const std::string text = l["sentence"];
      std::string np;
      Scene a = scene_of(root, "nlvr2", split, left), b = scene_of(root, "nlvr2", split, right);
      if (between(text, "Both images contain ", ".", np)) {
        Filter f = parse_filter(np);
        EXPECT_EQ(count(a, f) > 0 && count(b, f) > 0, label == "True") << id << " " << text;
        ++checked;
      } else if (between(text, "Neither image contains ", ".", np)) {
        Filter f = parse_filter(np);
        EXPECT_EQ(count(a, f) == 0 && count(b, f) == 0, label == "True") << id << " " << text;
        ++checked;
      } else if (text == "The left image has more objects than the right image.") {
        EXPECT_EQ(a.objects.size() > b.objects.size(), label == "True") << id;
        ++checked;
      }
    }
    int mixed = 0;
    for (const auto& [k, v] : labels) mixed += v.size() == 2;
    EXPECT_GE(mixed, int(labels.size()) * 3 / 4) << split;
  }
}

TEST(WorldDatasets, SnliVeLabelsAreBalancedAndDecidableOnesAreRight) {
  const auto root = tiny_world();
  for (const char* split : {"train", "dev", "test"}) {
    auto lines = read_jsonl(root + "/snli_ve/snli_ve_" + std::string(split) + ".jsonl");
    std::map<std::string, int> per_label;
    std::set<std::string> pair_ids;
    for (const auto& l : lines) {
      const std::string label = l["gold_label"], id = l["Flickr30K_ID"];
      per_label[label]++;
      EXPECT_TRUE(pair_ids.insert(l["pairID"].get<std::string>()).second);
      EXPECT_EQ(id.find_first_not_of("0123456789"), std::string::npos);
      const std::string rel = "snli_ve/flickr30k_images/" + id + ".png";
      ASSERT_TRUE(fs::exists(root + "/" + rel));
      EXPECT_FALSE(l["sentence1"].get<std::string>().empty());
      Scene s = scene_of(root, "snli_ve", split, rel);
      std::string np;
      if (between(l["sentence2"], "There is ", " in the picture.", np)) {
        const bool present = count(s, parse_filter(np)) > 0;
        if (label == "entailment") EXPECT_TRUE(present) << np;
        if (label == "contradiction") EXPECT_FALSE(present) << np;
      }
    }
    EXPECT_EQ(per_label.size(), 3u);
    EXPECT_EQ(per_label["entailment"], per_label["contradiction"]) << split;
    EXPECT_EQ(per_label["entailment"], per_label["neutral"]) << split;
  }
}

TEST(WorldDatasets, VcrTokensPointAtObjectsAndMaterialAnswersAreRight) {
  const auto root = tiny_world();
  for (const char* split : {"train", "val"}) {
    auto lines = read_jsonl(root + "/vcr/" + std::string(split) + ".jsonl");
    EXPECT_EQ(int64_t(lines.size()), counted("vcr", split, "questions"));
    for (const auto& l : lines) {
      const std::string img = l["img_fn"];
      ASSERT_TRUE(fs::exists(root + "/vcr/vcr1images/" + img));
      auto meta = read_json(root + "/vcr/vcr1images/" + l["metadata_fn"].get<std::string>());
      ASSERT_EQ(meta["names"], l["objects"]);
      ASSERT_EQ(meta["boxes"].size(), l["objects"].size());
      ASSERT_EQ(l["answer_choices"].size(), 4u);
      ASSERT_EQ(l["rationale_choices"].size(), 4u);
      const int n = int(l["objects"].size());
      auto check_tokens = [&](const json& tokens) {
        for (const auto& t : tokens)
          if (t.is_array())
            for (const auto& i : t) EXPECT_LT(i.get<int>(), n);
          else
            EXPECT_TRUE(t.is_string());
      };
      check_tokens(l["question"]);
      for (const auto& c : l["answer_choices"]) check_tokens(c);
      for (const auto& c : l["rationale_choices"]) check_tokens(c);
      const auto& q = l["question"];
      if (q[0] == "What" && q[1] == "is" && q[3] == "made") {
        Scene s = scene_of(root, "vcr", split, "vcr/vcr1images/" + img);
        const auto& right = l["answer_choices"][l["answer_label"].get<int>()];
        EXPECT_EQ(right[4], s.objects[q[2][0].get<int>()].material);
      }
    }
  }
}

TEST(WorldDatasets, AokvqaNeedsCorpusFactsAndAnswersAreRight) {
  const auto root = tiny_world();
  const std::string corpus = smoes::read_file(root + "/corpus/world_corpus.txt");
  for (const auto& fact : smoes::world::fact_sentences()) EXPECT_NE(corpus.find(fact), std::string::npos) << fact;
  int which = 0, held_out_in_val = 0;
  for (const char* split : {"train", "val"}) {
    auto records = read_json(root + "/aokvqa/aokvqa_v1p0_" + std::string(split) + ".json");
    ASSERT_TRUE(records.is_array());
    EXPECT_EQ(int64_t(records.size()), counted("aokvqa", split, "questions"));
    for (const auto& r : records) {
      ASSERT_EQ(r["choices"].size(), 4u);
      ASSERT_EQ(r["direct_answers"].size(), 10u);
      ASSERT_EQ(r["rationales"].size(), 3u);
      EXPECT_EQ(r["split"], split);
      EXPECT_EQ(r["question_id"].get<std::string>().size(), 22u);
      const std::string rel = "aokvqa/images/" + std::string(split) + "2017/" +
                              smoes::world::image_name("%012lld.png", r["image_id"].get<int64_t>());
      ASSERT_TRUE(fs::exists(root + "/" + rel));
      Scene s = scene_of(root, "aokvqa", split, rel);
      const std::string question = r["question"], right = r["choices"][r["correct_choice_idx"].get<int>()];
      for (const auto& p : smoes::world::properties()) {
        std::string np;
        if (question.find(p.clause) == std::string::npos) continue;
        if (split == std::string("train")) EXPECT_FALSE(p.held_out) << question;
        held_out_in_val += p.held_out;
        int n = 0;
        for (const auto& o : s.objects) n += smoes::world::has_property(o.material, p);
        if (between(question, "Which object in the image ", "?", np)) {
          const int i = one_object(s, right);
          EXPECT_TRUE(i >= 0 && smoes::world::has_property(s.objects[i].material, p)) << question << " " << right;
          EXPECT_EQ(n, 1);
          ++which;
        } else if (between(question, "How many objects in the picture ", "?", np)) {
          EXPECT_EQ(right, std::to_string(n)) << question;
        }
      }
      for (const auto& rationale : r["rationales"])
        for (const char* word : {"float", "sink", "magnet", "burn", "bounce", "electric", "break", "shatter"})
          EXPECT_EQ(rationale.get<std::string>().find(word), std::string::npos) << rationale;
    }
  }
  EXPECT_GT(which, 0);
  EXPECT_GT(held_out_in_val, 0);
}

TEST(WorldDatasets, FactsAppearOnlyInTheCorpus) {
  const auto root = tiny_world();
  std::vector<std::string> texts;
  // The file's JSON is kept in a variable: a range-for over a member of a
  // temporary reads freed memory (AddressSanitizer found this one).
  for (const char* split : {"train2014", "val2014", "heldout2014"}) {
    const auto file = read_json(root + "/coco/annotations/captions_" + std::string(split) + ".json");
    for (const auto& a : file["annotations"]) texts.push_back(a["caption"]);
  }
  for (const char* split : {"train2014", "val2014"}) {
    const auto file = read_json(root + "/vqa/v2_OpenEnded_mscoco_" + std::string(split) + "_questions.json");
    for (const auto& q : file["questions"]) texts.push_back(q["question"]);
  }
  for (const char* split : {"train", "dev", "test"})
    for (const auto& l : read_jsonl(root + "/snli_ve/snli_ve_" + std::string(split) + ".jsonl"))
      texts.push_back(l["sentence1"]), texts.push_back(l["sentence2"]);
  texts.push_back(smoes::read_file(root + "/cc/Train_GCC-training.tsv"));
  texts.push_back(smoes::read_file(root + "/gqa/questions/train_balanced_questions.json"));
  texts.push_back(smoes::read_file(root + "/vcr/train.jsonl"));
  for (const auto& t : texts)
    for (const char* word : {"float", "sink", "magnet", "burn", "bounce", "electric", "shatter", "insulator"})
      ASSERT_EQ(t.find(word), std::string::npos) << word << " in: " << t.substr(0, 200);
}

TEST(WorldDatasets, RenderingThreadsNeverChangeTheBytes) {
  auto one = generate_tiny("one_thread", 9, 1);
  EXPECT_EQ(read_json(one + "/MANIFEST.json")["files"], manifest()["files"]);
}
