#!/usr/bin/python3
"""A PyTorch-eager peer for smoes's benchmarks (scripts/peer_bench.sh).

What a user would otherwise write: an HF-Mixtral-style sparse MoE block
(router linear, softmax, top-k, renormalised weights, a Python loop over the
experts with SwiGLU experts) inside a small LLaVA-style decoder of the same
shape as a smoes config (default configs/quick_topk.json), run eagerly with
Debian's python3-torch (1.13.1, the same release as the project's LibTorch).
Written for this benchmark; it copies no other project's code.

It measures what `smoes bench moe|train|decode` measure, the same way:
  moe     the MoE block's forward + backward on T random tokens (median ms);
  train   model forward + backward + AdamW step on synthetic batches with one
          image per sequence (tokens/s);
  decode  prefill and KV-cached greedy decode (tokens/s) at each --batch:
          prefill = greedy generation of one token (the prompt's forward and
          its argmax), generate = of --new-tokens tokens, decode = their
          per-repeat difference over batch x (new_tokens - 1) tokens.
and prints one JSON object with the numbers and the versions.

Differences from what src/model builds (none changes the work per token
beyond the noted):
  - experts are three bias-free Linears (w1, w3, w2) as in HF's Mixtral,
    where smoes keeps one fused [d, 2f] up-projection per expert;
  - the router's auxiliary losses (load balancing, z-loss) are computed in
    training only; smoes's layer computes them in every forward;
  - a one-token decode step uses no attention mask (a single query may see
    every cached key); smoes builds its padding-aware mask at every step;
  - no modality ids, attention-mask plumbing or FLOP counting (the top-k
    router does not read modality);
  - the ViT's final norm is LayerNorm and the projector's norm uses batch
    statistics (model.vit_norm / model.projector_norm as in the config;
    other values are refused rather than approximated).
"""
import argparse
import json
import math
import platform
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# smoes's defaults (src/core/config.h) for fields a config file leaves out.
MODEL_DEFAULTS = dict(d_model=256, n_layers=4, n_heads=4, max_seq_len=256, moe_every=1, rope_theta=10000.0,
                      image_size=64, patch_size=8, vit_layers=2, vit_width=128, vit_heads=4,
                      projector_norm="image", vit_norm="layer")
MOE_DEFAULTS = dict(enabled=True, num_experts=8, top_k=2, ffn_hidden=512, shared_experts=0,
                    aux_loss_coef=0.01, z_loss_coef=0.001)
IMAGE_TOKEN = 3


def load_config(path):
    raw = {}
    if path:
        with open(path) as f:
            raw = json.load(f)
    model = {**MODEL_DEFAULTS, **raw.get("model", {})}
    moe = {**MOE_DEFAULTS, **raw.get("moe", {})}
    router = raw.get("router", {}).get("name", "topk")
    if router != "topk" or not moe["enabled"] or model["moe_every"] != 1 or moe["shared_experts"]:
        sys.exit("mixtral_peer: only a top-k MoE in every layer without shared experts is modelled")
    if model["vit_norm"] != "layer":
        sys.exit("mixtral_peer: only model.vit_norm = layer is modelled")
    return model, moe


# ---------------------------------------------------------------- building blocks

class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class Rotary:
    """Rotate-half RoPE at explicit positions."""

    def __init__(self, head_dim, max_positions, theta):
        inv_freq = theta ** (-torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)
        angles = torch.outer(torch.arange(max_positions, dtype=torch.float64), inv_freq)
        full = torch.cat([angles, angles], -1)
        self.cos, self.sin = full.cos().float(), full.sin().float()

    def __call__(self, x, positions):  # x [B, H, S, Dh], positions [S]
        cos, sin = self.cos[positions], self.sin[positions]
        half = x.shape[-1] // 2
        return x * cos + torch.cat([-x[..., half:], x[..., :half]], -1) * sin


class Attention(nn.Module):
    """Multi-head attention with a learned per-head sink logit, as smoes's."""

    def __init__(self, width, heads):
        super().__init__()
        self.heads, self.head_dim = heads, width // heads
        self.qkv = nn.Linear(width, 3 * width, bias=False)
        self.proj = nn.Linear(width, width, bias=False)
        self.sink = nn.Parameter(torch.zeros(heads))

    def forward(self, x, bias=None, rope=None, positions=None, cache=None):
        b, s, _ = x.shape
        q, k, v = self.qkv(x).view(b, s, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        if rope is not None:
            q, k = rope(q, positions), rope(k, positions)
        if cache is not None:
            if cache:
                k, v = torch.cat([cache[0], k], 2), torch.cat([cache[1], v], 2)
            cache[:] = [k, v]
        scores = q @ k.transpose(-2, -1) * (1.0 / math.sqrt(self.head_dim))
        if bias is not None:
            scores = scores + bias
        out = torch.softmax(scores, -1) @ v
        out = out * torch.sigmoid(torch.logsumexp(scores, -1, keepdim=True) - self.sink.view(1, -1, 1, 1))
        return self.proj(out.transpose(1, 2).reshape(b, s, -1))


class Expert(nn.Module):
    """SwiGLU: w2(silu(w1 x) * w3 x)."""

    def __init__(self, d, ffn):
        super().__init__()
        self.w1 = nn.Linear(d, ffn, bias=False)
        self.w3 = nn.Linear(d, ffn, bias=False)
        self.w2 = nn.Linear(ffn, d, bias=False)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class SparseMoeBlock(nn.Module):
    """HF-Mixtral-style: router, softmax over all experts, top-k, renormalise,
    then a loop over the experts, each gathering its tokens."""

    def __init__(self, d, ffn, experts, top_k):
        super().__init__()
        self.top_k = top_k
        self.gate = nn.Linear(d, experts, bias=False)
        self.experts = nn.ModuleList(Expert(d, ffn) for _ in range(experts))

    def forward(self, x):
        shape = x.shape
        x = x.reshape(-1, shape[-1])
        logits = self.gate(x)
        probs = torch.softmax(logits, -1, dtype=torch.float)
        weights, chosen = torch.topk(probs, self.top_k, -1)
        weights = (weights / weights.sum(-1, keepdim=True)).to(x.dtype)
        out = torch.zeros_like(x)
        hits = F.one_hot(chosen, len(self.experts)).permute(2, 1, 0)  # [E, k, T]
        for e, expert in enumerate(self.experts):
            rank, token = torch.where(hits[e])
            if token.numel() == 0:
                continue
            y = expert(x[token]) * weights[token, rank, None]
            out.index_add_(0, token, y)
        return out.view(shape), logits, chosen


def router_losses(logits, chosen, experts):
    """Switch load balancing (counts carry no gradient) and the z-loss."""
    probs = torch.softmax(logits, -1)
    counts = torch.zeros(experts).index_add_(0, chosen.reshape(-1), torch.ones(chosen.numel()))
    balance = experts * ((counts / chosen.numel()) * probs.mean(0)).sum()
    z = torch.logsumexp(logits, -1).pow(2).mean()
    return balance, z


class DecoderBlock(nn.Module):
    def __init__(self, m, moe):
        super().__init__()
        self.attn_norm, self.ffn_norm = RMSNorm(m["d_model"]), RMSNorm(m["d_model"])
        self.attn = Attention(m["d_model"], m["n_heads"])
        self.moe = SparseMoeBlock(m["d_model"], moe["ffn_hidden"], moe["num_experts"], moe["top_k"])

    def forward(self, x, bias, rope, positions, cache):
        h = x + self.attn(self.attn_norm(x), bias, rope, positions, cache)
        y, logits, chosen = self.moe(self.ffn_norm(h))
        return h + y, logits, chosen


class ViTBlock(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.attn = Attention(width, heads)
        self.fc1, self.fc2 = nn.Linear(width, 4 * width), nn.Linear(4 * width, width)

    def forward(self, x):
        h = x + self.attn(self.norm1(x))
        return h + self.fc2(F.gelu(self.fc1(self.norm2(h))))


class Projector(nn.Module):
    """Linear, GELU, Linear, then each channel centred and scaled (per image
    or over the batch with running statistics), times a learned gain."""

    def __init__(self, width, d, batch_stats):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(width, d), nn.Linear(d, d)
        self.gain = nn.Parameter(torch.full((d,), 0.02))
        self.batch_stats = batch_stats
        self.register_buffer("running_mean", torch.zeros(d))
        self.register_buffer("running_var", torch.ones(d))

    def forward(self, patches):
        h = self.fc2(F.gelu(self.fc1(patches)))
        if not self.batch_stats:
            c = h - h.mean(1, keepdim=True)
            return c * torch.rsqrt(c.pow(2).mean(1, keepdim=True) + 1e-5) * self.gain
        if not self.training:
            return (h - self.running_mean) * torch.rsqrt(self.running_var + 1e-5) * self.gain
        mean = h.mean((0, 1))
        var = (h - mean).pow(2).mean((0, 1))
        with torch.no_grad():
            n = h.shape[0] * h.shape[1]
            self.running_mean.mul_(0.9).add_(0.1 * mean)
            self.running_var.mul_(0.9).add_(0.1 * var * n / max(n - 1, 1))
        return (h - mean) * torch.rsqrt(var + 1e-5) * self.gain


class PeerVLM(nn.Module):
    def __init__(self, m, moe, vocab):
        super().__init__()
        self.m, self.moe_cfg, self.vocab = m, moe, vocab
        g = m["image_size"] // m["patch_size"]
        self.patches = g * g
        self.patch_embed = nn.Linear(3 * m["patch_size"] ** 2, m["vit_width"])
        self.pos_embed = nn.Parameter(torch.randn(self.patches, m["vit_width"]) * 0.02)
        self.vit = nn.ModuleList(ViTBlock(m["vit_width"], m["vit_heads"]) for _ in range(m["vit_layers"]))
        self.vit_norm = nn.LayerNorm(m["vit_width"])
        self.projector = Projector(m["vit_width"], m["d_model"], m["projector_norm"] == "batch")
        self.embed = nn.Embedding(vocab, m["d_model"])
        self.blocks = nn.ModuleList(DecoderBlock(m, moe) for _ in range(m["n_layers"]))
        self.final_norm = RMSNorm(m["d_model"])
        self.rope = Rotary(m["d_model"] // m["n_heads"], m["max_seq_len"], m["rope_theta"])
        for name, p in self.named_parameters():
            if not name.startswith(("patch_embed", "pos_embed", "vit")) and "norm" not in name and p.dim() >= 2:
                nn.init.normal_(p, 0.0, 0.02)

    def visual_tokens(self, images):
        n, p = images.shape[0], self.m["patch_size"]
        g = self.m["image_size"] // p
        x = images.view(n, 3, g, p, g, p).permute(0, 2, 4, 1, 3, 5).reshape(n, g * g, 3 * p * p)
        x = self.patch_embed(x) + self.pos_embed
        for block in self.vit:
            x = block(x)
        return self.projector(self.vit_norm(x))

    def forward(self, ids, images=None, cache=None, start=0, last_only=False):
        """ids [B, S] -> logits [B, S, V] (or [B, V] at the last position)
        and the routers' (logits, chosen) per layer. cache: a list of
        per-layer [k, v] lists, filled and extended in place."""
        b, s = ids.shape
        x = self.embed(ids)
        if images is not None:
            slots = ids.eq(IMAGE_TOKEN).unsqueeze(-1)
            x = x.masked_scatter(slots, self.visual_tokens(images).reshape(-1, x.shape[-1]))
        positions = torch.arange(start, start + s)
        bias = None
        if s > 1:  # causal over the cached past and the new tokens
            keys = torch.arange(start + s)
            bias = torch.zeros(s, start + s).masked_fill(keys[None, :] > positions[:, None], -1e9)
        routing = []
        for i, block in enumerate(self.blocks):
            x, logits, chosen = block(x, bias, self.rope, positions, None if cache is None else cache[i])
            routing.append((logits, chosen))
        h = self.final_norm(x[:, -1] if last_only else x)
        return h @ self.embed.weight.t(), routing  # tied input/output embeddings


# ---------------------------------------------------------------- measurements

def timed(f):
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


def median(v):
    return sorted(v)[len(v) // 2]  # as smoes's benches take it


def bench_moe(a):
    torch.manual_seed(0)
    block = SparseMoeBlock(a.moe_d, a.moe_ffn, a.moe_experts, a.moe_top_k)
    x = torch.randn(a.moe_tokens, a.moe_d, requires_grad=True)
    grad = torch.randn(a.moe_tokens, a.moe_d)

    def run():
        (block(x)[0] * grad).sum().backward()

    run()  # warm-up
    ms = [1e3 * timed(run) for _ in range(a.moe_repeats)]
    return dict(tokens=a.moe_tokens, d_model=a.moe_d, ffn_hidden=a.moe_ffn, experts=a.moe_experts,
                top_k=a.moe_top_k, repeats=a.moe_repeats, fwd_bwd_ms=median(ms))


def synthetic_batch(model, batch, seq_len, vocab):
    ids = torch.randint(4, vocab, (batch, seq_len))
    ids[:, :model.patches] = IMAGE_TOKEN
    images = torch.randn(batch, 3, model.m["image_size"], model.m["image_size"])
    return ids, images


def bench_train(a, m, moe):
    torch.manual_seed(1)
    model = PeerVLM(m, moe, a.vocab)
    if a.seq_len <= model.patches:
        sys.exit(f"mixtral_peer: --seq-len must exceed the {model.patches} visual tokens")
    ids, images = synthetic_batch(model, a.train_batch, a.seq_len, a.vocab)
    labels = torch.randint(4, a.vocab, (a.train_batch, a.seq_len))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)

    def step():
        opt.zero_grad()
        logits, routing = model(ids, images)
        loss = F.cross_entropy(logits.reshape(-1, a.vocab), labels.reshape(-1))
        for logits_r, chosen in routing:
            balance, z = router_losses(logits_r, chosen, moe["num_experts"])
            loss = loss + moe["aux_loss_coef"] * balance + moe["z_loss_coef"] * z
        loss.backward()
        opt.step()

    step(), step()  # warm-up, as smoes bench train
    secs = timed(lambda: [step() for _ in range(a.train_steps)]) / a.train_steps
    return dict(batch=a.train_batch, seq_len=a.seq_len, steps=a.train_steps, step_ms=1e3 * secs,
                tokens_per_s=a.train_batch * a.seq_len / secs)


@torch.no_grad()
def greedy(model, ids, images, new_tokens):
    """Greedy decoding with the KV cache; returns [B, new_tokens]."""
    cache = [[] for _ in model.blocks]
    logits, _ = model(ids, images, cache, last_only=True)
    out = []
    for step in range(new_tokens):
        nxt = logits.argmax(-1)
        out.append(nxt)
        if step + 1 == new_tokens:
            break
        logits, _ = model(nxt[:, None], None, cache, start=ids.shape[1] + step, last_only=True)
    return torch.stack(out, 1)


def bench_decode(a, m, moe):
    if a.prompt_len + a.new_tokens > m["max_seq_len"]:
        sys.exit("mixtral_peer: prompt + new tokens exceed model.max_seq_len")
    results = []
    for batch in a.batch:
        torch.manual_seed(1)
        model = PeerVLM(m, moe, a.vocab).eval()
        ids, images = synthetic_batch(model, batch, a.prompt_len, a.vocab)
        greedy(model, ids, images, a.new_tokens)  # warm-up
        prefill, generate, decode = [], [], []
        generated = 0
        for _ in range(a.repeats):
            prefill.append(timed(lambda: greedy(model, ids, images, 1)))
            start = time.perf_counter()
            generated = greedy(model, ids, images, a.new_tokens).numel()
            generate.append(time.perf_counter() - start)
            decode.append(generate[-1] - prefill[-1])
        results.append(dict(batch=batch, prompt_tokens=a.prompt_len, new_tokens=a.new_tokens,
                            generated_tokens=generated, threads=torch.get_num_threads(),
                            prefill_ms=1e3 * median(prefill), generate_ms=1e3 * median(generate),
                            decode_ms=1e3 * median(decode),
                            prefill_tokens_per_s=batch * a.prompt_len / median(prefill),
                            decode_tokens_per_s=batch * (a.new_tokens - 1) / median(decode)))
    return results


def debian_version(package):
    try:
        return subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True,
                              check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", default="configs/quick_topk.json", help="smoes config JSON for the model's shape")
    p.add_argument("--threads", type=int, required=True, help="torch.set_num_threads")
    p.add_argument("--only", default="moe,train,decode", help="comma-separated: moe, train, decode")
    p.add_argument("--vocab", type=int, default=2048, help="as smoes bench train/decode")
    p.add_argument("--moe-tokens", type=int, default=512)
    p.add_argument("--moe-d", type=int, default=256, help="as smoes bench moe's cases")
    p.add_argument("--moe-ffn", type=int, default=512)
    p.add_argument("--moe-experts", type=int, default=8)
    p.add_argument("--moe-top-k", type=int, default=2)
    p.add_argument("--moe-repeats", type=int, default=7)
    p.add_argument("--train-batch", type=int, default=16)
    p.add_argument("--seq-len", type=int, default=56, help="tokens per training sequence incl. visual tokens")
    p.add_argument("--train-steps", type=int, default=5)
    p.add_argument("--batch", type=int, nargs="+", default=[1, 16], help="decode batch sizes")
    p.add_argument("--prompt-len", type=int, default=48, help="prompt tokens incl. visual tokens")
    p.add_argument("--new-tokens", type=int, default=32)
    p.add_argument("--repeats", type=int, default=5, help="decode repeats (median)")
    a = p.parse_args()
    if a.new_tokens < 2:
        sys.exit("mixtral_peer: --new-tokens must be >= 2")
    torch.set_num_threads(a.threads)
    m, moe = load_config(a.config)
    only = set(a.only.split(","))
    out = dict(peer="bench/peers/mixtral_peer.py",
               versions=dict(python=platform.python_version(), torch=torch.__version__,
                             python3_torch=debian_version("python3-torch"), numpy=np.__version__,
                             threads=torch.get_num_threads()),
               config=a.config)
    if "moe" in only:
        out["moe"] = bench_moe(a)
    if "train" in only:
        out["train"] = bench_train(a, m, moe)
    if "decode" in only:
        out["decode"] = bench_decode(a, m, moe)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
