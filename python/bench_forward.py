#!/usr/bin/env python3
"""Time one FiT forward pass in PyTorch on the CPU (fp32 or bf16, random weights).

Example:
  python python/bench_forward.py --preset fitv2-xl --tokens 256 --batch 2 --threads 2 --iterations 3 --warmup 1
prints
  pytorch forward fitv2-xl tokens=256 batch=2 threads=2: 3012.4 ms/forward, 201.3 GFLOP/s

FLOPs = 2 x MACs from the layer shapes: every Linear (token-wise and per-sample) plus the
attention products QK^T and AV (softmax, norms, RoPE and activations are not counted).
Presets: fitv1-xl, fitv2-xl, fitv2-3b, fitv2-hr-xl, fitv2-hr-3b, and the fixture models
v1-tiny, v2-tiny, pixel-tiny; --depth/--hidden/--heads/--lora-dim override the preset for
small custom sizes.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fit_reference import FiT, PRESETS, flop_count  # noqa: E402
from fit_reference import rope as R  # noqa: E402


def squareish(tokens: int) -> tuple[int, int]:
    """(h, w) with h * w == tokens, h <= w, h as large as possible."""
    h = int(math.isqrt(tokens))
    while tokens % h:
        h -= 1
    return h, tokens // h


def config_for(args) -> dict:
    if args.preset in PRESETS:
        cfg = dict(PRESETS[args.preset])
    else:
        import make_fixtures as mf
        if args.preset not in mf.TINY_MODELS:
            raise SystemExit(f"unknown preset {args.preset!r}; choose from "
                             f"{sorted(PRESETS) + sorted(mf.TINY_MODELS)}")
        cfg = dict(mf.TINY_MODELS[args.preset])
    if args.depth is not None:
        cfg["depth"] = args.depth
    if args.hidden is not None:
        cfg["hidden_size"] = args.hidden
    if args.heads is not None:
        cfg["num_heads"] = args.heads
    if args.lora_dim is not None:
        cfg["adaln_lora_dim"] = args.lora_dim
    cfg["online_rope"] = False        # the samplers' inference setting
    return cfg


@torch.no_grad()
def randomize_(model: torch.nn.Module, seed: int) -> None:
    """In-place fp32 random weights: Linear N(0, 1/fan_in), biases N(0, 0.01), tables N(0, 1)."""
    g = torch.Generator().manual_seed(seed)
    for name, p in model.named_parameters():
        if name.endswith("embedding_table.weight"):
            p.normal_(0.0, 1.0, generator=g)
        elif p.dim() == 2:
            p.normal_(0.0, 1.0 / math.sqrt(p.shape[1]), generator=g)
        elif name.endswith(".bias"):
            p.normal_(0.0, 0.1, generator=g)
        else:
            p.fill_(1.0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="fitv2-xl")
    ap.add_argument("--tokens", type=int, default=256)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--iterations", "--iters", dest="iters", type=int, default=3,
                    help="timed passes (the same flag as fit bench forward; --iters is the old name)")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--depth", type=int)
    ap.add_argument("--hidden", type=int)
    ap.add_argument("--heads", type=int)
    ap.add_argument("--lora-dim", type=int)
    ap.add_argument("--with-mask", action="store_true",
                    help="pass an all-ones mask like the official samplers (boolean attention mask)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--precision", "--dtype", dest="dtype", choices=["fp32", "bf16"], default="fp32",
                    help="bf16: the model and its inputs cast to bfloat16, as a PyTorch user runs them")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of the text line")
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    cfg = config_for(args)
    h, w = squareish(args.tokens)
    N, B = h * w, args.batch
    p, C = cfg["patch_size"], cfg["in_channels"]

    model = FiT(**cfg).float().eval()
    randomize_(model, args.seed)
    g = torch.Generator().manual_seed(args.seed + 1)
    x = torch.randn(B, N, p * p * C, generator=g)
    if not cfg["use_sit"]:
        x = x.transpose(1, 2).contiguous()
    t = torch.full((B,), 0.5) if cfg["use_sit"] else torch.full((B,), 500.0)
    y = torch.randint(0, cfg["num_classes"], (B,), generator=g)
    grid = R.row_major_grid(h, w, B)
    mask = torch.ones(B, N) if args.with_mask else None
    if args.dtype == "bf16":
        model = model.to(torch.bfloat16)
        x, t = x.to(torch.bfloat16), t.to(torch.bfloat16)

    times = []
    with torch.inference_mode():
        for i in range(args.warmup + args.iters):
            t0 = time.perf_counter()
            model(x, t, y, grid, mask, pe_hw=(h, w))
            dt = time.perf_counter() - t0
            if i >= args.warmup:
                times.append(dt)

    flops = flop_count(cfg, N, B)
    mean_s = statistics.fmean(times)
    result = {
        "impl": "pytorch",
        "preset": args.preset,
        "tokens": N,
        "grid_h": h,
        "grid_w": w,
        "batch": B,
        "threads": args.threads,
        "iterations": args.iters,
        "warmup": args.warmup,
        "with_mask": args.with_mask,
        "ms_per_forward": mean_s * 1e3,
        "ms_best": min(times) * 1e3,
        "ms_median": statistics.median(times) * 1e3,
        "gflop_per_forward": flops / 1e9,
        "gflops": flops / statistics.median(times) / 1e9,
        "precision": args.dtype,
        "torch": torch.__version__,
        "dtype": "bfloat16" if args.dtype == "bf16" else "float32",
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"pytorch forward {args.preset} {args.dtype} tokens={N} batch={B} threads={args.threads}: "
              f"{result['ms_per_forward']:.1f} ms/forward, {result['gflops']:.1f} GFLOP/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
