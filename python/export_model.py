"""Export a training run's weights as the model `fit` ships (Sources/FiTTUI/Resources/).

One file is the whole model: the FiT and, under ``vae.``, the decode path of its VAE
(``post_quant_conv.*`` and ``decoder.*`` in diffusers names). Safetensors in F16 (half the size;
the Swift loader widens to F32) with metadata:
  fit_config    the network configuration (official FiT parameter names)
  vae_config    the VAE's diffusers config.json (with its scaling factor)
  class_names   the 15 class names, in label order
  fit_sampling  the recommended sampler, steps, guidance, size and interpolation, and the RoPE
                setting beyond the trained sizes ("extrapolation": more than trained_tokens
                tokens or a side longer than trained_side tokens)
  fit_training  where the weights came from (run, step, weights kind, VAE)

Usage:
  .venv/bin/python python/export_model.py [--run python/runs/embedded] [--weights ema|raw]
      [--vae python/weights/vae-emoji.safetensors] [--out Sources/FiTTUI/Resources/fit-emoji.safetensors]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python"))

from fit_reference.model import FiT  # noqa: E402

RECOMMENDED = {"sampler": "euler", "steps": 30, "cfg": 3.0, "size": "32x32", "interpolation": "no",
               "extrapolation": {"interpolation": "yarn", "decouple": True, "trained_tokens": 144, "trained_side": 16}}
LIMIT_BYTES = 25 * 1000 * 1000


def export(run: Path, weights: str, out: Path, recommended: dict, vae: Path) -> dict:
    source = run / ("model_ema.safetensors" if weights == "ema" else "model.safetensors")
    if not source.exists():
        raise SystemExit(f"{source} does not exist: train first (make train)")
    with safe_open(str(source), framework="pt") as f:
        meta = dict(f.metadata())
    config = json.loads(meta["fit_config"])
    tensors = load_file(str(source))
    # Strict check: the weights bind to the configuration they claim.
    tensors = {k: v for k, v in tensors.items() if not k.startswith("vae.")}
    FiT(**config).load_state_dict(tensors, strict=True)
    training = json.loads(meta.get("fit_training", "{}"))
    training.update({"run": run.name, "weights": weights})
    if not vae.exists():
        raise SystemExit(f"{vae} does not exist: train the VAE first (python/train_vae.py)")
    with safe_open(str(vae), framework="pt") as f:
        vae_meta = dict(f.metadata())
    vae_tensors = {f"vae.{k}": v for k, v in load_file(str(vae)).items()
                   if k.startswith(("decoder.", "post_quant_conv."))}
    # Strict check: the decoder binds to its configuration.
    from fit_reference.vae import VAEConfig, VAEDecoder
    VAEDecoder(VAEConfig.from_json(vae_meta["vae_config"])).load_diffusers_state_dict(
        {k[4:]: v for k, v in vae_tensors.items()})
    training["vae"] = json.loads(vae_meta.get("vae_training", "{}"))
    tensors.update(vae_tensors)
    metadata = {
        "fit_config": json.dumps(config),
        "vae_config": vae_meta["vae_config"],
        "class_names": meta["class_names"],
        "fit_sampling": json.dumps(recommended),
        "fit_training": json.dumps(training),
    }
    half = {k: v.to(torch.float16).contiguous() for k, v in tensors.items()}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name("." + out.name + ".tmp")
    save_file(half, str(tmp), metadata=metadata)
    size = tmp.stat().st_size
    if size > LIMIT_BYTES:
        tmp.unlink()
        raise SystemExit(f"exported model is {size} bytes, over the {LIMIT_BYTES}-byte limit")
    os.chmod(tmp, 0o644)
    os.replace(tmp, out)
    return {"out": str(out), "bytes": size, "step": training.get("step"), "tensors": len(half),
            "parameters": sum(v.numel() for v in half.values())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", type=Path, default=ROOT / "python/runs/embedded")
    ap.add_argument("--weights", choices=["ema", "raw"], default="ema")
    ap.add_argument("--out", type=Path, default=ROOT / "Sources/FiTTUI/Resources/fit-emoji.safetensors")
    ap.add_argument("--vae", type=Path, default=ROOT / "python/weights/vae-emoji.safetensors")
    ap.add_argument("--recommended", type=str, default=json.dumps(RECOMMENDED),
                    help="JSON of the recommended sampling settings (fit_sampling)")
    args = ap.parse_args()
    print(json.dumps(export(args.run, args.weights, args.out, json.loads(args.recommended), args.vae)))


if __name__ == "__main__":
    main()
