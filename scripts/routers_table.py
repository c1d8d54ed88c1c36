#!/usr/bin/env python3
"""The routers' table (issue 25, docs/RESULTS.md): mean +- std over seeds of
multimodal scores, text-only scores, MSI and the expert-parallel vision
cross-device rate at D=2, per model.

Reads RUNS/<model>-s<seed>/{eval_val.json, eval_text_val.json,
analyze_routing_val.json}, as scripts/routers.sh writes them:

  scripts/routers_table.py runs/study [MODEL ...]
"""
import json
import os
import re
import statistics
import sys

from testbed_table import mean_std

COLUMNS = [
    ("eval_val.json", ("metrics", "refcoco", "Acc@0.5"), "refcoco Acc@0.5"),
    ("eval_val.json", ("metrics", "vqa_v2", "accuracy"), "VQA"),
    ("eval_val.json", ("metrics", "coco_captions", "CIDEr-D"), "CIDEr-D"),
    ("eval_text_val.json", ("metrics", "fact_qa", "accuracy"), "fact_qa"),
    ("eval_text_val.json", ("metrics", "corpus", "perplexity"), "corpus ppl"),
    ("analyze_routing_val.json", ("routing", "msi"), "MSI"),
    ("analyze_routing_val.json", ("routing", "mutual_information"), "MI (mean over layers)"),
    ("analyze_routing_val.json", ("routing", "expert_parallel", "D=2", "prefill", "vision"), "vision cross D=2 prefill"),
    ("analyze_routing_val.json", ("routing", "expert_parallel", "D=2", "prefill", "all"), "all cross D=2 prefill"),
    ("analyze_routing_val.json", ("routing", "expert_parallel", "D=2", "decode", "text"), "text cross D=2 decode"),
]


def lookup(doc, path):
    for i, key in enumerate(path):
        if doc is None:
            return None
        if key.startswith("D="):  # the entry of devices == D, over all layers
            entry = next((d for d in doc["devices"] if d["devices"] == int(key[2:])), None)
            doc = entry and entry["all_layers"]
            continue
        doc = doc.get(key)
    if isinstance(doc, dict):
        doc = doc.get("cross_rate")
    if isinstance(doc, list):  # per-layer values: their mean
        values = [v for v in doc if v is not None]
        doc = statistics.mean(values) if values else None
    return doc



def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "runs/study"
    wanted = sys.argv[2:]
    runs = {}
    for name in sorted(os.listdir(root)):
        m = re.match(r"(.+)-s(\d+)$", name)
        done = os.path.exists(os.path.join(root, name, "DONE"))  # finished training
        if m and done and (not wanted or m.group(1) in wanted):
            runs.setdefault(m.group(1), []).append(os.path.join(root, name))
    order = wanted or sorted(runs)
    table(runs, order)
    paired(runs, order, "topk")


def value(run, file, path):
    p = os.path.join(run, file)
    return lookup(json.load(open(p)), path) if os.path.exists(p) else None


def table(runs, order):
    print("| model | seeds | " + " | ".join(label for _, _, label in COLUMNS) + " |")
    print("|---" * (len(COLUMNS) + 2) + "|")
    for model in order:
        cells = []
        for file, path, _ in COLUMNS:
            values = []
            for run in runs.get(model, []):
                v = value(run, file, path)
                if v is not None:
                    values.append(v)
            cells.append(mean_std(values))
        print(f"| {model} | {len(runs.get(model, []))} | " + " | ".join(cells) + " |")


def paired(runs, order, base):
    """Each model minus `base` on the same seed: seeds differ in data order,
    which moves every model alike, so the paired difference is less noisy."""
    seed_of = lambda run: re.search(r"-s(\d+)$", run).group(1)
    base_runs = {seed_of(r): r for r in runs.get(base, [])}
    columns = [c for c in COLUMNS[:5]]
    print()
    print(f"| minus {base}, same seed | seeds | " + " | ".join(label for _, _, label in columns) + " |")
    print("|---" * (len(columns) + 2) + "|")
    for model in order:
        if model == base:
            continue
        pairs = [(r, base_runs[seed_of(r)]) for r in runs.get(model, []) if seed_of(r) in base_runs]
        cells = []
        for file, path, _ in columns:
            d = [value(a, file, path) - value(b, file, path) for a, b in pairs
                 if value(a, file, path) is not None and value(b, file, path) is not None]
            cells.append(mean_std(d).replace("0.", "+0.", 1) if d and statistics.mean(d) >= 0 else mean_std(d))
        print(f"| {model} | {len(pairs)} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
