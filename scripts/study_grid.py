#!/usr/bin/env python3
# Writes configs/study/grid/{quick,full}.json: the same grid, different sizes.
import json
def models(vision_steps=None):
    M = []
    def m(name, config, frm=None, per_seed=True, **sets):
        d = {"name": name, "config": config}
        if sets: d["set"] = {k.replace("__", "."): v for k, v in sets.items()}
        if frm: d["from"] = frm
        if not per_seed: d["per_seed"] = False
        M.append(d)
    cap = {"coco_captions": 1.0}
    gnd = {"refcoco": 1.0}
    # Stage 0, shared by every seed: the detection-pretrained ViT (decoder untouched).
    if vision_steps: m("vision", "../vision.json", per_seed=False, train__steps=vision_steps)
    else: m("vision", "../vision.json", per_seed=False)
    # RQ1: a text-only MoE LM, then its ViT, then three ways of attaching vision.
    m("lm", "../topk.json", train__stage="lm", data__mixture={"corpus": 1.0}, train__freeze=[])
    m("lm_vision", "../vision.json", "lm")
    m("rq1_frozen", "../topk.json", "lm_vision", train__stage="align", train__freeze=[])
    m("rq1_full", "../topk.json", "lm_vision")
    m("rq1_smoes", "../smoes_attention.json", "lm_vision")
    # RQ2 (and RQ4's E = 8 row): captioning or grounding alone, then the other task.
    for fam, cfg in (("topk", "../topk.json"), ("smoes", "../smoes_attention.json")):
        m(fam + "_cap", cfg, "vision", data__mixture=cap)
        m(fam + "_gnd", cfg, "vision", data__mixture=gnd)
        m(fam + "_cap_to_gnd", cfg, fam + "_cap", data__mixture=gnd)
        m(fam + "_gnd_to_cap", cfg, fam + "_gnd", data__mixture=cap)
    # RQ3: GQA- and NLVR2-style training.
    reason = {"gqa": 1.0, "nlvr2": 1.0}
    m("topk_reason", "../topk.json", "vision", data__mixture=reason)
    m("smoes_reason", "../smoes_attention.json", "vision", data__mixture=reason)
    # RQ4: SMoES on captions with E experts; top-2 of width 384 = equal active parameters.
    for e in (4, 16, 32):
        m("smoes_cap_e%d" % e, "../smoes_attention.json", "vision", data__mixture=cap, moe__num_experts=e)
    # E = 32 of width 96, top-8: the E = 8 model's total and active parameters, finer experts.
    m("smoes_cap_e32_fine", "../smoes_attention.json", "vision", data__mixture=cap, moe__num_experts=32,
      moe__ffn_hidden=96, moe__top_k=8)
    # RQ5: the testbed mixture with VQA-CP-style VQA; E = 8, top-2, width 384 for all three.
    vqa = {"coco_captions": 0.5, "refcoco": 2.0, "vqa_cp": 1.5, "corpus": 0.1}
    m("topk_vqa", "../topk.json", "vision", data__mixture=vqa)
    m("hard_vqa", "../hard_4_4.json", "vision", data__mixture=vqa)
    m("smoes_vqa", "../smoes_attention.json", "vision", data__mixture=vqa)
    return M

questions = {
    "rq1": {"pretrained": "lm", "frozen": "rq1_frozen", "full": "rq1_full", "smoes": "rq1_smoes",
            "caption_task": "coco_captions", "grounding_task": "refcoco", "text_task": "corpus"},
    "rq2": {"standard": {"caption": "topk_cap", "caption_to_grounding": "topk_cap_to_gnd",
                         "grounding": "topk_gnd", "grounding_to_caption": "topk_gnd_to_cap"},
            "smoes": {"caption": "smoes_cap", "caption_to_grounding": "smoes_cap_to_gnd",
                      "grounding": "smoes_gnd", "grounding_to_caption": "smoes_gnd_to_cap"},
            "caption_task": "coco_captions", "grounding_task": "refcoco"},
    "rq3": {"methods": {"top-k": "topk_reason", "SMoES": "smoes_reason"}, "baseline": "top-k",
            "id_tasks": ["gqa", "nlvr2"], "ood_tasks": ["vcr_qa", "snli_ve"]},
    "rq4": {"equal_active": {"4": "smoes_cap_e4", "8": "smoes_cap", "16": "smoes_cap_e16", "32": "smoes_cap_e32"},
            "equal_total": {"32": "smoes_cap_e32_fine"}, "id_task": "coco_captions", "ood_task": "cc"},
    "rq5": {"fixed": {"top-k": "topk_vqa", "hard modality": "hard_vqa", "SMoES": "smoes_vqa"}, "baseline": "top-k",
            "dynamic_on": {"SMoES": "smoes_vqa", "top-k": "topk_vqa"}, "methods": ["modes", "naee-skip", "top-p"],
            "ratio": 0.5, "tasks": ["vqa_cp", "aokvqa_da"]},
}

quick = {
    "description": "The quick preset: every run of the full grid, one seed, 40 training steps each, scored on 40 "
                   "examples per task, on the quick world. It checks the pipeline end to end in minutes.",
    "evidence": False,
    "world": {"root": "data/world", "preset": "quick", "seed": 1},
    "seeds": [1],
    "set": {"train.steps": 40, "train.warmup_steps": 5, "train.ckpt_every": 40, "train.log_every": 5,
            "train.batch_size": 8},
    "eval": {"limit": 40, "routing_examples": 8, "skip_limit": 40, "calibration_samples": 16, "candidates": 4},
    "models": models(), "questions": questions}
full = {
    "description": "The full preset: three seeds of every run, 1,200 training steps each (the decoder testbed's "
                   "recipe and world, shortened to fit the grid into one night on 2 cores), scored on 200 examples "
                   "per task.",
    "evidence": True,
    "world": {"root": "data/study", "preset": "study", "seed": 1},
    "seeds": [1, 2, 3],
    "set": {"train.steps": 1200, "train.ckpt_every": 300},
    "eval": {"limit": 200, "routing_examples": 30, "skip_limit": 200, "calibration_samples": 256, "candidates": 16},
    "models": models(1500), "questions": questions}
for name, spec in (("quick", quick), ("full", full)):
    with open("configs/study/grid/%s.json" % name, "w") as f:
        json.dump(spec, f, indent=2)
        f.write("\n")
