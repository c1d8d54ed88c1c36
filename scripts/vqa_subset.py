#!/usr/bin/env python3
"""Make a world whose VQA v2 files keep only the questions that start with one of the prefixes.

Every other dataset is symlinked from the source world; the VQA files are
rewritten in the official format and MANIFEST.json gets their new SHA-256, so
`smoes train` and `smoes eval` load the subset like any world. Used to test
one question type on its own (docs/RESULTS.md, "Where VQA fails").

  scripts/vqa_subset.py --world /tmp/wq2 --out /tmp/wc --prefix "What color is the"
"""
import argparse
import hashlib
import json
import os
import sys


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def write_json_atomic(path, value):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(value, f)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--world", required=True, help="source world (smoes world generate --out ...)")
    ap.add_argument("--out", required=True, help="new world directory")
    ap.add_argument("--prefix", required=True, action="append",
                    help='keep questions starting with this, e.g. "What color is the"; repeat for several')
    args = ap.parse_args()
    world, out = os.path.abspath(args.world), os.path.abspath(args.out)
    if not os.path.isfile(os.path.join(world, "MANIFEST.json")):
        sys.exit(f"vqa_subset: {world}/MANIFEST.json not found (not a world)")
    os.makedirs(os.path.join(out, "vqa"), exist_ok=True)
    for name in os.listdir(world):
        if name in ("vqa", "MANIFEST.json") or os.path.lexists(os.path.join(out, name)):
            continue
        os.symlink(os.path.join(world, name), os.path.join(out, name))

    with open(os.path.join(world, "MANIFEST.json")) as f:
        manifest = json.load(f)
    for split in ("train2014", "val2014"):
        qrel, arel = f"vqa/v2_OpenEnded_mscoco_{split}_questions.json", f"vqa/v2_mscoco_{split}_annotations.json"
        with open(os.path.join(world, qrel)) as f:
            questions = json.load(f)
        with open(os.path.join(world, arel)) as f:
            annotations = json.load(f)
        keep = {q["question_id"] for q in questions["questions"] if q["question"].startswith(tuple(args.prefix))}
        questions["questions"] = [q for q in questions["questions"] if q["question_id"] in keep]
        annotations["annotations"] = [a for a in annotations["annotations"] if a["question_id"] in keep]
        for rel, value in ((qrel, questions), (arel, annotations)):
            write_json_atomic(os.path.join(out, rel), value)
            manifest["files"][rel] = sha256(os.path.join(out, rel))
        print(f"{split}: kept {len(keep)} questions")
    write_json_atomic(os.path.join(out, "MANIFEST.json"), manifest)


if __name__ == "__main__":
    main()
