"""Seed corpus for the fuzz targets in Sources/FiTFuzz (`make fuzz`): small, valid inputs that
reach deep into each parser, for libFuzzer to mutate.

  Fuzz/corpus/safetensors/  micro FiT checkpoints (F32, BF16, F16), one carrying a micro VAE,
                            one without a configuration, the empty file set
  Fuzz/corpus/png-record/   tiny PNGs with a generation record, a bad record, and none

Run: .venv/bin/python python/make_fuzz_corpus.py
"""
import json
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from PIL.PngImagePlugin import PngInfo
from safetensors.torch import save_file

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python"))
from fit_reference.model import FiT  # noqa: E402
from make_fixtures import _base_config  # noqa: E402

OUT = ROOT / "Fuzz" / "corpus"


def micro_config(**kw) -> dict:
    cfg = dict(context_size=16, patch_size=1, in_channels=3, hidden_size=8, depth=1, num_heads=2,
               mlp_ratio=1.0, num_classes=2, adaln_lora_dim=2)
    cfg.update(kw)
    return _base_config(**cfg)


def write_checkpoints(folder: Path) -> None:
    torch.manual_seed(0)
    cfg = micro_config()
    state = {k: v.contiguous() for k, v in FiT(**cfg).state_dict().items()}
    meta = {"fit_config": json.dumps(cfg)}
    save_file(state, str(folder / "micro-f32.safetensors"), metadata=meta)
    save_file({k: v.to(torch.bfloat16) for k, v in state.items()}, str(folder / "micro-bf16.safetensors"), metadata=meta)
    save_file({k: v.to(torch.float16) for k, v in state.items()}, str(folder / "micro-f16.safetensors"), metadata=meta)
    save_file(state, str(folder / "micro-no-config.safetensors"))
    v1 = micro_config(learn_sigma=True, use_sit=False, q_norm=None, k_norm=None, adaln_type="normal", adaln_lora_dim=None)
    save_file({k: v.contiguous() for k, v in FiT(**v1).state_dict().items()}, str(folder / "micro-v1.safetensors"),
              metadata={"fit_config": json.dumps(v1), "fit_classes": json.dumps(["a", "b"]),
                        "fit_sampling": json.dumps({"sampler": "ddim", "steps": 4, "cfg": 2.0})})
    save_file({"labels": torch.tensor([1, 2], dtype=torch.int64)}, str(folder / "labels-i64.safetensors"))
    (folder / "empty-header.safetensors").write_bytes((2).to_bytes(8, "little") + b"{}")


def write_pngs(folder: Path) -> None:
    pixels = (np.arange(4 * 4 * 3) * 7 % 256).astype(np.uint8).reshape(4, 4, 3)
    record = {"cfg": 4, "class": 1, "decouple": False, "height": 8, "model": "pixel-tiny.safetensors",
              "model_hash": "08114f58bc0aa452", "model_path": "pixel-tiny.safetensors", "sampler": "euler",
              "scale_pow": 0, "seed": 7, "software": "fit 0.1.0", "steps": 2, "width": 8,
              "interpolation": "yarn", "ori_max_pe_len": 4}
    for name, text in [("record", json.dumps(record, sort_keys=True, separators=(",", ":"))), ("bad-record", "{\"steps\": \"many\"}"), ("plain", None)]:
        info = PngInfo()
        if text is not None:
            info.add_text("parameters", text)
        Image.fromarray(pixels).save(folder / f"{name}.png", pnginfo=info)


def main() -> None:
    for sub, writer in [("safetensors", write_checkpoints), ("png-record", write_pngs)]:
        folder = OUT / sub
        folder.mkdir(parents=True, exist_ok=True)
        writer(folder)
    for f in sorted(OUT.rglob("*")):
        if f.is_file():
            print(f"{f.relative_to(ROOT)}: {f.stat().st_size} bytes")


if __name__ == "__main__":
    main()
