#!/usr/bin/env python3
"""Train the small VAE of FiT Explorer's embedded emoji model (diffusers ``AutoencoderKL`` layout).

The embedded FiT works in this VAE's latent space, like the official FiT checkpoints work in the
SD-VAE's: 32x32x3 pixels <-> 8x8x4 latents (downsampling factor 4). FiTKit's SD-VAE decoder
runs it unchanged (same key names, configuration from the ``vae_config`` metadata), and it is
small enough (about 0.1 GFLOP per 32x32 image) to decode every denoising step in the explorer.

Data: the training split of the emoji set, each glyph drawn at a random size (16..64 px) on a
white 32x32 canvas at a random offset (padded or cropped), randomly mirrored. Loss: L1 + MSE on
pixels in [-1, 1] plus a small KL term (the SD recipe's 1e-6 scale), AdamW with warm-up and a
cosine decay, seeded. The scaling factor (1 / std of the latents over the training set, as the
SD-VAE's 0.18215) is measured at the end and stored in the config.

Output:
  --out (default python/weights/vae-emoji.safetensors, committed: the FiT's training data are
  this VAE's latents, so a later session continues training in the same latent space)
                    encoder + decoder, F32, metadata ``vae_config`` (diffusers config.json) and
                    ``vae_training`` (steps, reconstruction PSNR on the held-out split)
  python/runs/<name>/recon.png   held-out glyphs (top) and their reconstructions (bottom)

Usage: .venv/bin/python python/train_vae.py [--steps 3000] [--out FILE] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

PY = Path(__file__).resolve().parent
sys.path.insert(0, str(PY))

import emoji_dataset as ED  # noqa: E402

RUNS = PY / "runs"

# The embedded VAE: three levels (factor 4), one ResNet per level in the encoder (two per up
# block in the decoder), no mid attention, 4 latent channels.
VAE_CONFIG = {
    "_class_name": "AutoencoderKL",
    "act_fn": "silu",
    "block_out_channels": [32, 64, 128],
    "down_block_types": ["DownEncoderBlock2D"] * 3,
    "up_block_types": ["UpDecoderBlock2D"] * 3,
    "in_channels": 3,
    "out_channels": 3,
    "latent_channels": 4,
    "layers_per_block": 1,
    "norm_num_groups": 16,
    "mid_block_add_attention": False,
    "sample_size": 32,
}
KL_WEIGHT = 1e-6
CANVAS = 32


def make_vae(config: dict):
    from diffusers import AutoencoderKL
    keys = {k: v for k, v in config.items() if not k.startswith("_") and k != "scaling_factor"}
    return AutoencoderKL(**keys)


class GlyphCanvases:
    """Random 32x32 views of the glyphs: random art size, random offset, random mirror."""

    def __init__(self, images: np.ndarray):
        self.sides = list(range(16, 65, 4))
        self.art = {s: ED.resize_images(images, s) for s in self.sides}
        self.n = images.shape[0]

    def batch(self, rng: np.random.Generator, size: int) -> torch.Tensor:
        out = np.full((size, CANVAS, CANVAS, 3), 255, dtype=np.uint8)
        for b in range(size):
            s = self.sides[rng.integers(len(self.sides))]
            art = self.art[s][rng.integers(self.n)]
            if rng.random() < 0.5:
                art = art[:, ::-1]
            # art top-left corner on the canvas, so that at least half of the art overlaps it
            lo, hi = min(0, CANVAS - s), max(0, CANVAS - s)
            oy, ox = (int(rng.integers(lo - s // 4, hi + s // 4 + 1)) for _ in range(2))
            y0, x0 = max(oy, 0), max(ox, 0)
            y1, x1 = min(oy + s, CANVAS), min(ox + s, CANVAS)
            if y1 > y0 and x1 > x0:
                out[b, y0:y1, x0:x1] = art[y0 - oy:y1 - oy, x0 - ox:x1 - ox]
        return torch.from_numpy(out).permute(0, 3, 1, 2).float() / 127.5 - 1.0


def centred(images: np.ndarray, side: int = CANVAS) -> torch.Tensor:
    art = ED.resize_images(images, side)
    return torch.from_numpy(art).permute(0, 3, 1, 2).float() / 127.5 - 1.0


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = float(((a.clamp(-1, 1) - b) / 2).pow(2).mean())
    return 10 * math.log10(1.0 / max(mse, 1e-12))


def save_vae(vae, config: dict, path: Path, training: dict) -> None:
    from safetensors.torch import save_file
    sd = {k: v.detach().float().contiguous() for k, v in vae.state_dict().items()}
    meta = {"vae_config": json.dumps(config), "vae_training": json.dumps(training)}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    save_file(sd, str(tmp), metadata=meta)
    tmp.replace(path)


def load_vae(path: Path):
    """(AutoencoderKL in eval mode, config dict with scaling_factor) from a saved file."""
    from safetensors import safe_open
    from safetensors.torch import load_file
    with safe_open(str(path), "pt") as f:
        config = json.loads(f.metadata()["vae_config"])
    vae = make_vae(config)
    vae.load_state_dict(load_file(str(path)), strict=True)
    return vae.eval(), config


@torch.no_grad()
def encode(vae, images: torch.Tensor, scaling: float, chunk: int = 256) -> torch.Tensor:
    """Posterior means times the scaling factor: (B, 3, H, W) in [-1, 1] -> (B, 4, H/4, W/4)."""
    out = [vae.encode(images[i:i + chunk]).latent_dist.mean * scaling for i in range(0, len(images), chunk)]
    return torch.cat(out)


@torch.no_grad()
def decode(vae, latents: torch.Tensor, scaling: float, chunk: int = 256) -> torch.Tensor:
    return torch.cat([vae.decode(latents[i:i + chunk] / scaling).sample for i in range(0, len(latents), chunk)])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=20251205)
    ap.add_argument("--name", default="vae-emoji", help="run folder for recon.png (python/runs/NAME)")
    ap.add_argument("--out", type=Path, default=PY / "weights" / "vae-emoji.safetensors")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data", type=Path, default=ED.DEFAULT_OUT)
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    data = ED.load(args.data)
    train_imgs = data["images"][data["split"] == 0]
    eval_imgs = data["images"][data["split"] == 1]
    pool = GlyphCanvases(train_imgs)
    held = centred(eval_imgs)

    vae = make_vae(VAE_CONFIG).train()
    nparams = sum(p.numel() for p in vae.parameters())
    dec_params = sum(p.numel() for n, p in vae.named_parameters() if n.startswith(("decoder.", "post_quant")))
    print(f"VAE {nparams:,} parameters ({dec_params:,} in the decode path); {len(train_imgs)} train glyphs",
          flush=True)
    opt = torch.optim.AdamW(vae.parameters(), lr=args.lr, betas=(0.9, 0.99), weight_decay=0.0)
    warm = 100
    t0 = time.time()
    acc = []
    for step in range(args.steps):
        lr = args.lr * min(1.0, (step + 1) / warm) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / args.steps)))
        for g in opt.param_groups:
            g["lr"] = lr
        x = pool.batch(rng, args.batch)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            post = vae.encode(x).latent_dist
            z = post.sample()
            rec = vae.decode(z).sample
        rec = rec.float()
        l1 = (rec - x).abs().mean()
        l2 = (rec - x).pow(2).mean()
        kl = post.kl().mean() / (x.shape[2] * x.shape[3])
        loss = l1 + l2 + KL_WEIGHT * kl * x.shape[2] * x.shape[3] / 64
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(vae.parameters(), 1.0)
        opt.step()
        acc.append(l1.item())
        if (step + 1) % 100 == 0:
            print(f"step {step + 1:5d} l1 {np.mean(acc):.4f} lr {lr:.1e} {(time.time() - t0) / (step + 1):.2f}s/step",
                  flush=True)
            acc = []

    vae.eval()
    with torch.no_grad():
        lat = encode(vae, centred(train_imgs), 1.0)
        scaling = float(1.0 / lat.std())
        rec = decode(vae, encode(vae, held, scaling), scaling)
    config = dict(VAE_CONFIG, scaling_factor=round(scaling, 5))
    quality = {"steps": args.steps, "batch": args.batch, "seed": args.seed, "params": nparams,
               "decoder_params": dec_params, "heldout_psnr_32": round(psnr(rec, held), 2),
               "latent_std_unscaled": float(lat.std()), "minutes": round((time.time() - t0) / 60, 1)}
    run = RUNS / args.name
    save_vae(vae, config, args.out, quality)
    run.mkdir(parents=True, exist_ok=True)
    from PIL import Image
    top = ((held[:32].clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()
    bot = ((rec[:32].clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()
    sheet = np.concatenate([np.concatenate(list(top), 1), np.concatenate(list(bot), 1)], 0)
    Image.fromarray(sheet).resize((sheet.shape[1] * 3, sheet.shape[0] * 3), Image.NEAREST).save(run / "recon.png")
    print(json.dumps(quality), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
