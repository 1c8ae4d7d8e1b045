#!/usr/bin/env python3
"""Write the golden SD-VAE decoder fixtures for the Swift FiTKit tests.

Deterministic (byte-identical on every run): latents come from seeded torch generators, weights
from fit_reference.synthetic_weights, and the files are written by a small safetensors writer
with sorted tensor names and sorted metadata keys (safetensors' own writer orders metadata keys
differently from run to run).

Output folder (default): Tests/FiTKitTests/Fixtures/vae/ relative to the repository root.

  sd-vae-ft-ema-synthetic.safetensors
      the real sd-vae-ft-ema architecture with the synthetic weights, which are NOT stored (the
      Swift side regenerates them, see synthetic_weights.py). Tensors: z F32 (1,4,32,32) scaled
      latents (plain randn, as FiT samples them), image F32 (1,3,256,256) pre-clamp decoder output,
      image_u8 U8 (1,3,256,256) = to_uint8(image) in float32. Metadata: vae_config (JSON),
      weights = "synthetic", synthetic_sum / synthetic_abs_sum = exact sums over all 140 weight
      tensors (repr of a float64; a cheap check of a port of the generator).
  tiny-modern.safetensors          reduced VAE checkpoint, current diffusers names, F32; config
                                   in metadata vae_config
  tiny-legacy/config.json +        reduced VAE as a diffusers folder: deprecated attention names
  tiny-legacy/diffusion_pytorch_model.safetensors   (query/key/value/proj_attn) with 4-D 1x1
                                   attention weights, plus encoder.* and quant_conv.* tensors to
                                   ignore; no scaling_factor key (-> 0.18215); metadata only
                                   {"format": "pt"}
  tiny-3up.safetensors             3 up blocks, scaling_factor 0.13025, no mid attention, F16
                                   weights; config in metadata vae_config
  <case>.io.safetensors            z F32, image F32, image_u8 U8 for each reduced case

Every expected image is computed in float64 from the weights exactly as stored (upcast), loaded
through fit_reference.vae.load_vae, i.e. the same loader path a user's checkpoint takes.

Usage: python python/make_vae_fixtures.py [--out DIR] [--skip-real]
"""

from __future__ import annotations

import argparse
import json
import math
import struct
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fit_reference.synthetic_weights import synthetic_state_dict, synthetic_torch_state_dict  # noqa: E402
from fit_reference.vae import (SD_VAE_FT_EMA, VAEConfig, VAEDecoder, decoder_state_dict_keys,  # noqa: E402
                               load_vae, to_uint8)

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "Tests" / "FiTKitTests" / "Fixtures"
DEFAULT_OUT = FIXTURES / "vae"
SEED = 20240612

REAL_CASE = "sd-vae-ft-ema-synthetic"
REAL_Z_SHAPE = (1, 4, 32, 32)

# case -> (config, z shape, layout, weight dtype, seed offset)
TINY_CASES = {
    "tiny-modern": (VAEConfig(block_out_channels=(16, 16, 32, 32), layers_per_block=1,
                              norm_num_groups=8),
                    (1, 4, 6, 10), "metadata", torch.float32, 1),
    "tiny-legacy": (VAEConfig(block_out_channels=(8, 16, 16, 32), layers_per_block=2,
                              norm_num_groups=4),
                    (2, 4, 8, 8), "folder", torch.float32, 2),
    "tiny-3up": (VAEConfig(block_out_channels=(16, 32, 32), layers_per_block=1, norm_num_groups=8,
                           scaling_factor=0.13025, mid_block_add_attention=False),
                 (1, 4, 7, 5), "metadata", torch.float16, 3),
}

# extra tensors of a whole-AutoencoderKL file that a decoder must skip (tiny-legacy only)
LEGACY_EXTRAS = {
    "encoder.conv_in.weight": (8, 3, 3, 3),
    "encoder.conv_in.bias": (8,),
    "encoder.mid_block.attentions.0.query.weight": (32, 32, 1, 1),
    "encoder.mid_block.attentions.0.query.bias": (32,),
    "encoder.conv_out.weight": (8, 32, 3, 3),
    "quant_conv.weight": (8, 8, 1, 1),
    "quant_conv.bias": (8,),
}
LEGACY_NAMES = {"to_q": "query", "to_k": "key", "to_v": "value", "to_out.0": "proj_attn"}


# ----------------------------------------------------------------------------------------------
# a byte-stable safetensors writer
# ----------------------------------------------------------------------------------------------

_DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
           torch.float64: "F64", torch.uint8: "U8", torch.int64: "I64", torch.int32: "I32"}


def write_safetensors(path: Path, tensors: dict, metadata: dict | None = None) -> None:
    """safetensors file with tensors in name order and metadata keys sorted (deterministic)."""
    header: dict = {}
    if metadata:
        header["__metadata__"] = {k: str(metadata[k]) for k in sorted(metadata)}
    blobs, offset = [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        raw = t.view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": _DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    tmp.replace(path)


def relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    """max |a - b| / max |b| (the project's relative-error convention)."""
    a, b = a.double(), b.double()
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-30))


# ----------------------------------------------------------------------------------------------
# cases
# ----------------------------------------------------------------------------------------------

def latents(shape, seed_offset: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(SEED + seed_offset)
    return torch.randn(shape, generator=g, dtype=torch.float32)


@torch.no_grad()
def decode_f64(model: VAEDecoder, z: torch.Tensor) -> torch.Tensor:
    return model.to(torch.float64).eval().decode(z.to(torch.float64))


def io_tensors(image64: torch.Tensor, z: torch.Tensor) -> dict:
    image = image64.float().contiguous()
    return {"z": z.contiguous(), "image": image, "image_u8": to_uint8(image).contiguous()}


def tiny_checkpoint(name: str, cfg: VAEConfig, layout: str, dtype: torch.dtype):
    """(tensors as stored, file path relative to out, metadata)."""
    sd = synthetic_torch_state_dict(decoder_state_dict_keys(cfg), dtype=dtype)
    if layout == "metadata":
        return sd, Path(f"{name}.safetensors"), {"vae_config": json.dumps(cfg.to_dict())}
    # folder layout with deprecated attention names, 1x1-conv attention weights, extra tensors
    stored = {}
    for k, v in sd.items():
        for new, old in LEGACY_NAMES.items():
            tag = f".attentions.0.{new}."
            if tag in k:
                k = k.replace(tag, f".attentions.0.{old}.")
                if k.endswith(".weight"):
                    v = v.reshape(*v.shape, 1, 1)
                break
        stored[k] = v
    for k, v in synthetic_torch_state_dict(LEGACY_EXTRAS, dtype=dtype).items():
        stored[k] = v
    return stored, Path(name) / "diffusion_pytorch_model.safetensors", {"format": "pt"}


def legacy_config_json(cfg: VAEConfig) -> str:
    """An old-style diffusers config.json: no scaling_factor, no mid_block_add_attention."""
    assert cfg.scaling_factor == 0.18215 and cfg.mid_block_add_attention
    d = {
        "_class_name": "AutoencoderKL",
        "_diffusers_version": "0.4.2",
        "act_fn": "silu",
        "block_out_channels": list(cfg.block_out_channels),
        "down_block_types": ["DownEncoderBlock2D"] * len(cfg.block_out_channels),
        "in_channels": 3,
        "latent_channels": cfg.latent_channels,
        "layers_per_block": cfg.layers_per_block,
        "norm_num_groups": cfg.norm_num_groups,
        "out_channels": cfg.out_channels,
        "sample_size": 64,
        "up_block_types": ["UpDecoderBlock2D"] * len(cfg.block_out_channels),
    }
    return json.dumps(d, indent=2) + "\n"


def write_tiny_case(out: Path, name: str) -> dict:
    cfg, zshape, layout, dtype, seed_off = TINY_CASES[name]
    stored, rel, meta = tiny_checkpoint(name, cfg, layout, dtype)
    write_safetensors(out / rel, stored, meta)
    if layout == "folder":
        (out / name / "config.json").write_text(legacy_config_json(cfg))
    model = load_vae(out / (rel.parent if layout == "folder" else rel), dtype=torch.float64)
    assert model.config == cfg, (model.config, cfg)
    z = latents(zshape, seed_off)
    image = decode_f64(model, z)
    write_safetensors(out / f"{name}.io.safetensors", io_tensors(image, z))
    return {"case": name, "checkpoint": str(rel), "z": list(zshape), "image": list(image.shape),
            "weights": _DTYPES[dtype], "tensors": len(stored),
            "range": [float(image.min()), float(image.max())]}


def synthetic_sums(cfg: VAEConfig) -> tuple[float, float]:
    s, a = [], []
    for v in synthetic_state_dict(decoder_state_dict_keys(cfg)).values():
        v64 = v.astype(np.float64).ravel()
        s.append(math.fsum(v64))
        a.append(math.fsum(np.abs(v64)))
    return math.fsum(s), math.fsum(a)


def real_model_f64() -> VAEDecoder:
    model = VAEDecoder(SD_VAE_FT_EMA)
    sd = synthetic_torch_state_dict(decoder_state_dict_keys(SD_VAE_FT_EMA), dtype=torch.float64)
    model = model.to(torch.float64)
    model.load_diffusers_state_dict(sd)
    return model.eval()


def write_real_case(out: Path) -> dict:
    z = latents(REAL_Z_SHAPE, 0)
    image = decode_f64(real_model_f64(), z)
    s, a = synthetic_sums(SD_VAE_FT_EMA)
    meta = {"vae_config": json.dumps(SD_VAE_FT_EMA.to_dict()), "weights": "synthetic",
            "synthetic_sum": repr(s), "synthetic_abs_sum": repr(a)}
    write_safetensors(out / f"{REAL_CASE}.safetensors", io_tensors(image, z), meta)
    return {"case": REAL_CASE, "checkpoint": "(synthetic, not stored)", "z": list(REAL_Z_SHAPE),
            "image": list(image.shape), "weights": "synthetic F32", "tensors": 140,
            "range": [float(image.min()), float(image.max())]}


# The whole pipeline: the v2 fixture transformer samples latents, the tiny VAE decodes them.
PIPELINE_CASE = dict(case="pipeline-v2-tiny", checkpoint="v2-tiny", vae="tiny-modern", sampler="euler", steps=3,
                     cfg=1.5, seed=5, classes=[1], tokens=(2, 4))


def write_pipeline_case(out: Path) -> dict:
    """Seed -> sampled latents (v2-tiny, float64) -> VAE decode (tiny-modern, float64): the picture
    `fit generate --model v2-tiny --vae tiny-modern` must make, as F32 before clamping and as 8-bit."""
    from fit_reference.sampling import load_fit_checkpoint, sample  # the transformer's reference
    c = PIPELINE_CASE
    model = load_fit_checkpoint(FIXTURES / "forward" / f"{c['checkpoint']}.safetensors", dtype=torch.float64)
    h, w = c["tokens"]
    trajectory = sample(model, c["sampler"], classes=c["classes"], h=h, w=w, seed=c["seed"], steps=c["steps"],
                        cfg_scale=c["cfg"], dtype=torch.float64)
    vae = load_vae(out / f"{c['vae']}.safetensors", dtype=torch.float64)
    z = trajectory.sample[: len(c["classes"])]
    image = decode_f64(vae, z)
    meta = {k: json.dumps(v) for k, v in c.items()}
    write_safetensors(out / f"{c['case']}.safetensors", io_tensors(image, z.float()), meta)
    return {"case": c["case"], "checkpoint": f"{c['checkpoint']} + {c['vae']}", "z": list(z.shape),
            "image": list(image.shape), "weights": "fixtures", "tensors": 0,
            "range": [float(image.min()), float(image.max())]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--skip-real", action="store_true",
                    help="skip the real-shape 32x32 case (a float64 decode of ~622 GFLOP)")
    args = ap.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    rows = []
    for name in TINY_CASES:
        rows.append(write_tiny_case(out, name))
    rows.append(write_pipeline_case(out))
    if not args.skip_real:
        t0 = time.perf_counter()
        rows.append(write_real_case(out))
        print(f"real-shape case decoded in float64 in {time.perf_counter() - t0:.1f} s")

    for r in rows:
        print(f"{r['case']:26s} z {tuple(r['z'])} -> image {tuple(r['image'])}  weights {r['weights']} "
              f"({r['tensors']} tensors)  image range [{r['range'][0]:+.3f}, {r['range'][1]:+.3f}]  "
              f"checkpoint {r['checkpoint']}")
    for p in sorted(out.rglob("*")):
        if p.is_file():
            print(f"  {p.relative_to(out)}  {p.stat().st_size:,} B")
    return 0


if __name__ == "__main__":
    sys.exit(main())
