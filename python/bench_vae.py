#!/usr/bin/env python3
"""Time one SD-VAE decode in PyTorch on the CPU (synthetic weights, sd-vae-ft-ema shape), in fp32
or, with --precision bf16, with the decoder and the latents in bf16 as a PyTorch user casts them.

Example:
  python python/bench_vae.py --size 256x256 --threads 2 --iterations 2 --warmup 1
prints
  pytorch vae decode 256x256 threads=2: 3012.4 ms/decode, 206.5 GFLOP/s

--size is the output image W x H in pixels (multiples of 8; the latent is size / 8).
--diffusers times diffusers' AutoencoderKL.decode (same weights) instead of fit_reference.vae.
FLOPs = 2 x MACs of every convolution and of the mid attention (q/k/v/out projections, QK^T,
AV), from fit_reference.vae.vae_flop_count; GroupNorm, SiLU and softmax are not counted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fit_reference.synthetic_weights import synthetic_torch_state_dict  # noqa: E402
from fit_reference.vae import (SD_VAE_FT_EMA, VAEDecoder, decoder_state_dict_keys,  # noqa: E402
                               vae_flop_count)


def parse_size(text: str) -> tuple[int, int]:
    """'WxH' (or one number for a square) -> (width, height) in pixels."""
    parts = text.lower().replace("×", "x").split("x")
    if len(parts) == 1:
        parts = parts * 2
    w, h = (int(p) for p in parts)
    if w <= 0 or h <= 0 or w % 8 or h % 8:
        raise argparse.ArgumentTypeError(f"size {text!r}: width and height must be positive multiples of 8")
    return w, h


def build_decoder(use_diffusers: bool, dtype: torch.dtype = torch.float32):
    """A callable z_scaled -> image with the synthetic sd-vae-ft-ema weights in ``dtype``."""
    cfg = SD_VAE_FT_EMA
    sd = synthetic_torch_state_dict(decoder_state_dict_keys(cfg))
    if not use_diffusers:
        model = VAEDecoder(cfg).eval()
        model.load_diffusers_state_dict(sd)
        return model.to(dtype).decode
    from diffusers import AutoencoderKL
    n = len(cfg.block_out_channels)
    with torch.device("meta"):          # the encoder is never run, so it may stay on meta
        vae = AutoencoderKL(
            in_channels=3, out_channels=cfg.out_channels,
            down_block_types=["DownEncoderBlock2D"] * n, up_block_types=["UpDecoderBlock2D"] * n,
            block_out_channels=list(cfg.block_out_channels), layers_per_block=cfg.layers_per_block,
            latent_channels=cfg.latent_channels, norm_num_groups=cfg.norm_num_groups)
    vae.load_state_dict(sd, strict=False, assign=True)
    vae.to(dtype).eval()
    return lambda z: vae.decode(z / cfg.scaling_factor).sample


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=parse_size, default=(256, 256), help="output image WxH in pixels")
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--iterations", "--iters", dest="iters", type=int, default=2,
                    help="timed decodes (the same flag as fit bench decode; --iters is the old name)")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--diffusers", action="store_true", help="time diffusers' AutoencoderKL instead")
    ap.add_argument("--precision", "--dtype", dest="dtype", choices=["fp32", "bf16"], default="fp32",
                    help="fp32, or bf16: the decoder and the latents cast to bfloat16 (the same flag as fit bench decode)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of the text line")
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    w, h = args.size
    dtype = torch.bfloat16 if args.dtype == "bf16" else torch.float32
    decode = build_decoder(args.diffusers, dtype)
    g = torch.Generator().manual_seed(args.seed)
    z = torch.randn(args.batch, SD_VAE_FT_EMA.latent_channels, h // 8, w // 8, generator=g).to(dtype)

    times = []
    with torch.inference_mode():
        for i in range(args.warmup + args.iters):
            t0 = time.perf_counter()
            decode(z)
            dt = time.perf_counter() - t0
            if i >= args.warmup:
                times.append(dt)

    flops = vae_flop_count(SD_VAE_FT_EMA, h // 8, w // 8, batch=args.batch)
    impl = "diffusers" if args.diffusers else "pytorch"
    size = f"{w}x{h}"
    result = {
        "impl": impl,
        "size": size,
        "batch": args.batch,
        "threads": args.threads,
        "iterations": args.iters,
        "warmup": args.warmup,
        "ms_median": statistics.median(times) * 1e3,
        "ms_best": min(times) * 1e3,
        "gflop_per_decode": flops / 1e9,
        "gflops": flops / statistics.median(times) / 1e9,
        "torch": torch.__version__,
        "precision": args.dtype,
    }
    if args.json:
        print(json.dumps(result))
    else:
        name = "pytorch vae decode" if not args.diffusers else "diffusers vae decode"
        batch = f" batch={args.batch}" if args.batch != 1 else ""
        print(f"{name} {args.dtype} {size}{batch} threads={args.threads}: {result['ms_median']:.1f} ms/decode (median), "
              f"{result['gflops']:.1f} GFLOP/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
