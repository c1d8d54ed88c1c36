#!/usr/bin/env python3
"""The decoder testbed's table: mean +- std over seeds of each model's scores.

Reads RUNS/<model>-s<seed>/eval_val.json (and eval_val_blank.json), as
scripts/testbed.sh writes them, and RUNS/times.tsv:

  scripts/testbed_table.py runs/study
"""
import glob
import json
import os
import re
import statistics
import sys

METRICS = [("refcoco", "Acc@0.5", "refcoco Acc@0.5"), ("vqa_v2", "accuracy", "VQA"),
           ("coco_captions", "CIDEr-D", "captions CIDEr-D")]
# The VQA question types that need the object's appearance (the others are
# yes/no and counts, which 1-2-object scenes let a blind prior answer well).
APPEARANCE = ["what color is the", "what shape is the", "what is the"]


def mean_std(values):
    if not values:
        return "-"
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.3f} ± {sd:.3f}"


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "runs/study"
    runs = {}
    for path in sorted(glob.glob(os.path.join(root, "*-s*", "eval_val*.json"))):
        m = re.match(r"(.+)-s(\d+)$", os.path.basename(os.path.dirname(path)))
        blank = path.endswith("_blank.json")
        name = m.group(1) + (", blank images" if blank else "")
        metrics = json.load(open(path))["metrics"]
        runs.setdefault(name, {})[int(m.group(2))] = metrics
    times = {}
    if os.path.exists(os.path.join(root, "times.tsv")):
        for line in open(os.path.join(root, "times.tsv")):
            name, secs = line.split("\t")
            times[name] = int(secs)
    print("| model | seeds | " + " | ".join(label for _, _, label in METRICS) + " | train s per run |")
    print("|---" * (len(METRICS) + 3) + "|")
    for name, by_seed in runs.items():
        cells = [mean_std([s[task][key] for s in by_seed.values() if task in s]) for task, key, _ in METRICS]
        base = name.split(",")[0]
        secs = [times[f"{base}-s{seed}"] for seed in by_seed if f"{base}-s{seed}" in times and "," not in name]
        t = f"{min(secs)}-{max(secs)}" if secs else ""
        print(f"| {name} | {','.join(map(str, sorted(by_seed)))} | " + " | ".join(cells) + f" | {t} |")
    print()
    print("| VQA by question type | " + " | ".join(f'"{t}"' for t in APPEARANCE) + " |")
    print("|---" * (len(APPEARANCE) + 1) + "|")
    for name, by_seed in runs.items():
        cells = [mean_std([s["vqa_v2"]["per_question_type"][t] for s in by_seed.values() if "vqa_v2" in s])
                 for t in APPEARANCE]
        print(f"| {name} | " + " | ".join(cells) + " |")
    # Leads over the blind twin, seed by seed (the targets).
    if "blind" in runs:
        print()
        print("| lead over the blind twin (same seed) | " + " | ".join(label for _, _, label in METRICS) + " |")
        print("|---" * (len(METRICS) + 1) + "|")
        for name, by_seed in runs.items():
            if name == "blind":
                continue
            cells = []
            for task, key, _ in METRICS:
                d = [by_seed[s][task][key] - runs["blind"][s][task][key] for s in by_seed if s in runs["blind"]]
                cells.append(mean_std(d))
            print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
