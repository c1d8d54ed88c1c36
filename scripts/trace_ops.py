#!/usr/bin/env python3
"""Where a decode step goes, from a `smoes bench decode --profile P` trace.

    scripts/trace_ops.py P_batch1.json [TOP]

Counts the top-level ATen calls (those not inside another) of each cached
decode step, a step running from one `aten::embedding` to the next, and
prints the median count per step and the TOP (10) most frequent calls with
their median count and summed time per step.
"""
import collections
import json
import statistics
import sys


def top_level(events):
    events = sorted((e for e in events if e.get("ph") == "X"), key=lambda e: (e["ts"], -e["dur"]))
    out, end = [], float("-inf")
    for e in events:
        if e["ts"] >= end:
            out.append(e)
            end = e["ts"] + e["dur"]
    return out


def main():
    with open(sys.argv[1]) as f:
        trace = json.load(f)
    top_n = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    calls = top_level(trace if isinstance(trace, list) else trace["traceEvents"])
    starts = [i for i, e in enumerate(calls) if e["name"] == "aten::embedding"]
    # The first segment is the prompt's forward; the last has no next step.
    steps = [calls[a:b] for a, b in zip(starts[1:], starts[2:])]
    if not steps:
        sys.exit("trace_ops: fewer than three forwards in the trace (use --new-tokens 3 or more)")
    counts = [collections.Counter(e["name"] for e in s) for s in steps]
    micros = [collections.Counter() for _ in steps]
    for m, s in zip(micros, steps):
        for e in s:
            m[e["name"]] += e["dur"]
    print(f"{len(steps)} decode steps; top-level ATen calls per step: median {statistics.median(len(s) for s in steps):.0f}")
    total = collections.Counter()
    for c in counts:
        total.update(c)
    print("| call | per step (median) | us per step (median) |")
    print("|---|---|---|")
    for name, _ in total.most_common(top_n):
        print(f"| {name} | {statistics.median(c[name] for c in counts):.0f} | "
              f"{statistics.median(m[name] for m in micros):.0f} |")


if __name__ == "__main__":
    main()
