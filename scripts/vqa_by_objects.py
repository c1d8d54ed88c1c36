#!/usr/bin/env python3
"""VQA accuracy (exact match with the majority answer) by the number of objects in the image.

Reads a results file written by `smoes eval --task vqa_v2` and the world's VQA
and COCO instances files:

  scripts/vqa_by_objects.py --world /tmp/wc --results /tmp/c1/vqa_v2_results.json
  scripts/vqa_by_objects.py --world /tmp/wq2 --results RUN/vqa_v2_results.json --type "what color is the"
"""
import argparse
import collections
import json
import os


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--world", required=True)
    ap.add_argument("--results", required=True, help='[{"question_id", "answer"}]')
    ap.add_argument("--split", default="val2014")
    ap.add_argument("--type", help="only questions of this question_type (e.g. \"what color is the\")")
    args = ap.parse_args()
    with open(args.results) as f:
        answers = {int(r["question_id"]): r["answer"] for r in json.load(f)}
    with open(os.path.join(args.world, f"vqa/v2_mscoco_{args.split}_annotations.json")) as f:
        truth = {a["question_id"]: a for a in json.load(f)["annotations"]}
    with open(os.path.join(args.world, f"coco/annotations/instances_{args.split}.json")) as f:
        objects = collections.Counter(a["image_id"] for a in json.load(f)["annotations"])
    hits = collections.defaultdict(list)
    for qid, answer in answers.items():
        if qid not in truth:
            raise SystemExit(f"vqa_by_objects: question {qid} of {args.results} is not in the annotations")
        a = truth[qid]
        if args.type and a["question_type"] != args.type:
            continue
        hits[objects[a["image_id"]]].append(answer == a["multiple_choice_answer"])
    print("objects  questions  accuracy")
    for n in sorted(hits):
        print(f"{n:7d}  {len(hits[n]):9d}  {sum(hits[n]) / len(hits[n]):8.3f}")


if __name__ == "__main__":
    main()
