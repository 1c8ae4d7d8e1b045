#!/usr/bin/env python3
"""Write the golden forward-pass fixtures for the Swift FiTKit tests.

Deterministic: every random tensor comes from one seeded torch.Generator, in a fixed order.
Output folder (default): Tests/FiTKitTests/Fixtures/forward/ relative to the repository root.

Contents
  <model>.safetensors            tiny random-weight checkpoints (F32; v2-tiny also F16 / BF16),
                                 metadata "fit_config" = JSON of the constructor parameters
  <case>.inputs.safetensors      x F32 (B,C,H,W), t F32 (B,), y I64 or I32 (B,), [mask F32 (B,N)]
  <case>.output.safetensors      out F32 (B,C_out,H,W), computed in float64 from the stored weights
  manifest.json                  list of cases
  rope_tables.safetensors/.json  per-axis RoPE frequencies + cos/sin multiplier, head_dim 72,
                                 ori_max_pe_len 16, 20x40 token grid, every mode x decouple
  timestep_embedding.safetensors t F32 (5,), emb F32 (5, 256)

Usage: python python/make_fixtures.py [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from safetensors import safe_open

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fit_reference import FiT, forward_image, timestep_embedding  # noqa: E402
from fit_reference import rope as rope_mod  # noqa: E402
from fit_reference.model import CONFIG_KEYS  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "Tests" / "FiTKitTests" / "Fixtures" / "forward"
SEED = 20240217


# ----------------------------------------------------------------------------------------------
# tiny model configurations (complete, explicit, official parameter names)
# ----------------------------------------------------------------------------------------------

def _base_config(**kw) -> dict:
    cfg = dict(
        context_size=64, patch_size=2, in_channels=4, hidden_size=64, depth=2, num_heads=4,
        mlp_ratio=4.0, class_dropout_prob=0.1, num_classes=10, learn_sigma=False,
        use_sit=True, use_checkpoint=False, use_swiglu=True, use_swiglu_large=False,
        rel_pos_embed="rope", norm_type="layernorm", q_norm="layernorm", k_norm="layernorm",
        qk_norm_weight=False, qkv_bias=True, ffn_bias=True, adaln_bias=True,
        adaln_type="lora", adaln_lora_dim=16, rope_theta=10000.0, custom_freqs="normal",
        max_pe_len_h=None, max_pe_len_w=None, decouple=False, ori_max_pe_len=None,
        online_rope=False, add_rel_pe_to_v=False, time_shifting=1,
    )
    cfg.update(kw)
    assert tuple(cfg) == CONFIG_KEYS
    return cfg


TINY_MODELS = {
    "v1-tiny": _base_config(
        learn_sigma=True, use_sit=False, use_swiglu_large=True, q_norm=None, k_norm=None,
        adaln_type="normal", adaln_lora_dim=None),
    "v2-tiny": _base_config(),
    "pixel-tiny": _base_config(in_channels=3, patch_size=4, hidden_size=48, num_heads=2,
                               num_classes=15, adaln_lora_dim=12),
    # The official defaults' GELU-tanh MLP (use_swiglu False) and QK-norm with affine weights.
    "gelu-tiny": _base_config(
        use_swiglu=False, hidden_size=32, num_heads=2, qk_norm_weight=True, adaln_lora_dim=8,
        num_classes=5),
}


def random_weights(model: FiT, gen: torch.Generator) -> dict:
    """Non-zero random weights so every path (gates, final layer, LoRA) contributes.

    Linear weights N(0, 1/fan_in), biases N(0, 0.1^2), embedding table N(0, 1),
    norm weights (if any) 1 + N(0, 0.1^2). Drawn in float64 in state-dict order.
    """
    out = {}
    for name, p in model.state_dict().items():
        shape = tuple(p.shape)
        z = torch.randn(shape, generator=gen, dtype=torch.float64)
        if name.endswith("embedding_table.weight"):
            v = z
        elif name.endswith(".weight") and len(shape) == 2:
            v = z / (shape[1] ** 0.5)
        elif name.endswith(".bias"):
            v = 0.1 * z
        elif name.endswith(".weight"):
            v = 1.0 + 0.1 * z
        else:
            raise ValueError(f"unexpected parameter {name}")
        out[name] = v
    return out


def save_checkpoint(path: Path, tensors: dict, cfg: dict, dtype: torch.dtype) -> None:
    data = {k: v.to(dtype).contiguous() for k, v in tensors.items()}
    save_file(data, str(path), metadata={"fit_config": json.dumps(cfg)})  # one key: byte-stable header


def load_checkpoint_f64(path: Path, **rope_overrides) -> FiT:
    """Build a float64 model from a fixture checkpoint (weights exactly as stored, upcast)."""
    with safe_open(str(path), framework="pt") as f:
        cfg = json.loads(f.metadata()["fit_config"])
    cfg.update(rope_overrides)
    sd = {k: v.to(torch.float64) for k, v in load_file(str(path)).items()}
    model = FiT(**cfg).to(torch.float64)
    model.load_state_dict(sd, strict=True)
    return model.eval()


# ----------------------------------------------------------------------------------------------
# cases
# ----------------------------------------------------------------------------------------------

# (case, checkpoint, (h, w) tokens, batch, t, y, y dtype, interpolation, decouple, ori, mask_tail)
BEYOND = (10, 14)
CASES = [
    ("v1-square", "v1-tiny", (8, 8), 2, [999.0, 17.0], [3, 7], "i64", "no", False, None, 0),
    ("v1-nonsquare", "v1-tiny", (6, 10), 2, [500.0, 0.0], [9, 2], "i32", "no", False, None, 0),
    ("v1-beyond-dynntk-decouple", "v1-tiny", (12, 10), 1, [250.0], [5], "i64", "dynntk", True, 8, 0),
    ("v2-square", "v2-tiny", (8, 8), 2, [0.25, 0.9], [4, 10], "i64", "no", False, None, 0),
    ("v2-nonsquare", "v2-tiny", (4, 12), 2, [0.0, 0.6], [1, 8], "i64", "no", False, None, 0),
    ("v2-nonsquare-dynntk-decouple", "v2-tiny", (4, 12), 2, [0.0, 0.6], [1, 8], "i64", "dynntk", True, 8, 0),
    ("v2-beyond-no", "v2-tiny", BEYOND, 1, [0.5], [2], "i64", "no", False, None, 0),
    ("v2-beyond-linear", "v2-tiny", BEYOND, 1, [0.5], [2], "i64", "linear", False, 8, 0),
    ("v2-beyond-dynntk", "v2-tiny", BEYOND, 1, [0.5], [2], "i64", "dynntk", False, 8, 0),
    ("v2-beyond-dynntk-decouple", "v2-tiny", BEYOND, 1, [0.5], [2], "i64", "dynntk", True, 8, 0),
    ("v2-beyond-ntkpro1", "v2-tiny", BEYOND, 1, [0.5], [2], "i64", "ntkpro1", False, 8, 0),
    ("v2-beyond-ntkpro2-decouple", "v2-tiny", BEYOND, 1, [0.5], [2], "i64", "ntkpro2", True, 8, 0),
    ("v2-beyond-partntk-decouple", "v2-tiny", BEYOND, 1, [0.5], [2], "i64", "partntk", True, 8, 0),
    ("v2-beyond-yarn", "v2-tiny", BEYOND, 1, [0.5], [2], "i64", "yarn", False, 8, 0),
    ("v2-beyond-yarn-decouple", "v2-tiny", BEYOND, 1, [0.5], [2], "i64", "yarn", True, 8, 0),
    ("v2-mask", "v2-tiny", (8, 8), 2, [0.4, 0.7], [6, 6], "i64", "no", False, None, 20),
    ("pixel-square", "pixel-tiny", (8, 8), 2, [0.3, 0.8], [0, 14], "i64", "no", False, None, 0),
    ("pixel-nonsquare", "pixel-tiny", (6, 10), 1, [0.55], [7], "i64", "no", False, None, 0),
    ("gelu-qkweight", "gelu-tiny", (6, 8), 2, [0.35, 0.65], [1, 4], "i64", "no", False, None, 0),
    # the F16 / BF16 checkpoints on the v2-square inputs (same x, t, y)
    ("v2-square-f16", "v2-tiny-f16", (8, 8), 2, [0.25, 0.9], [4, 10], "i64", "no", False, None, 0),
    ("v2-square-bf16", "v2-tiny-bf16", (8, 8), 2, [0.25, 0.9], [4, 10], "i64", "no", False, None, 0),
]
SHARED_INPUTS = {"v2-square-f16": "v2-square", "v2-square-bf16": "v2-square",
                 "v2-nonsquare-dynntk-decouple": "v2-nonsquare"}


def relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    """max |a - b| / max |b| (the project's relative-error convention)."""
    a, b = a.double(), b.double()
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-30))


def compute_case_output(ckpt_path: Path, inputs: dict, interp: str, decouple: bool, ori,
                        hw) -> torch.Tensor:
    model = load_checkpoint_f64(ckpt_path, **rope_mod.sampler_overrides(interp, decouple, ori, hw))
    x = inputs["x"].to(torch.float64)
    t = inputs["t"].to(torch.float64)
    y = inputs["y"].long()
    mask = inputs.get("mask")
    if mask is not None:
        mask = mask.to(torch.float64)
    with torch.no_grad():
        return forward_image(model, x, t, y, mask)


# ----------------------------------------------------------------------------------------------
# RoPE tables and timestep embedding
# ----------------------------------------------------------------------------------------------

ROPE_TABLE_SPEC = dict(head_dim=72, ori_max_pe_len=16, h=20, w=40, theta=10000.0)


def rope_tables() -> tuple[dict, dict]:
    spec = ROPE_TABLE_SPEC
    tensors, js = {}, {"spec": spec, "entries": []}
    for mode in rope_mod.ROPE_MODES:
        for dec in (True, False):
            fh, fw, m = rope_mod.rope_params(mode, spec["head_dim"], spec["h"], spec["w"],
                                             theta=spec["theta"], decouple=dec,
                                             ori_max_pe_len=spec["ori_max_pe_len"])
            key = f"{mode}.{'true' if dec else 'false'}"
            tensors[key + ".freqs_h"] = fh.to(torch.float64).contiguous()
            tensors[key + ".freqs_w"] = fw.to(torch.float64).contiguous()
            tensors[key + ".mscale"] = torch.tensor([m], dtype=torch.float64)
            js["entries"].append({"mode": mode, "decouple": dec, "key": key,
                                  "freqs_h": fh.tolist(), "freqs_w": fw.tolist(), "mscale": m})
    return tensors, js


TIMESTEPS = [0.0, 0.25, 1.0, 17.0, 999.0]


# ----------------------------------------------------------------------------------------------
# main
# ----------------------------------------------------------------------------------------------

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))

    gen = torch.Generator().manual_seed(SEED)

    # checkpoints
    for name, cfg in TINY_MODELS.items():
        model = FiT(**cfg)
        w = random_weights(model, gen)
        save_checkpoint(out / f"{name}.safetensors", w, cfg, torch.float32)
        if name == "v2-tiny":
            save_checkpoint(out / "v2-tiny-f16.safetensors", w, cfg, torch.float16)
            save_checkpoint(out / "v2-tiny-bf16.safetensors", w, cfg, torch.bfloat16)

    # cases
    manifest = []
    stored_inputs = {}
    for (case, ckpt, hw, B, t, y, ydt, interp, dec, ori, mask_tail) in CASES:
        model_name = ckpt.replace("-f16", "").replace("-bf16", "")
        cfg = TINY_MODELS[model_name]
        p, C = cfg["patch_size"], cfg["in_channels"]
        h, w = hw
        src = SHARED_INPUTS.get(case)
        if src is not None:
            inputs = stored_inputs[src]
        else:
            x = torch.randn((B, C, h * p, w * p), generator=gen, dtype=torch.float64).float()
            inputs = {
                "x": x.contiguous(),
                "t": torch.tensor(t, dtype=torch.float32),
                "y": torch.tensor(y, dtype=torch.int64 if ydt == "i64" else torch.int32),
            }
            if mask_tail:
                mask = torch.ones((B, h * w), dtype=torch.float32)
                mask[1, h * w - mask_tail:] = 0.0
                inputs["mask"] = mask
        stored_inputs[case] = inputs
        inputs_name = f"{case}.inputs.safetensors"
        save_file(inputs, str(out / inputs_name))
        res = compute_case_output(out / f"{ckpt}.safetensors", inputs, interp, dec, ori, hw)
        output_name = f"{case}.output.safetensors"
        save_file({"out": res.float().contiguous()}, str(out / output_name))
        manifest.append({
            "case": case,
            "checkpoint": f"{ckpt}.safetensors",
            "inputs": inputs_name,
            "output": output_name,
            "interpolation": interp,
            "decouple": dec,
            "ori_max_pe_len": ori,
            "custom_freqs": rope_mod.INTERPOLATION_TO_MODE[interp],
            "grid_h": h,
            "grid_w": w,
            "batch": B,
            "has_mask": bool(mask_tail),
        })
        print(f"{case:32s} {ckpt:18s} x{tuple(inputs['x'].shape)} -> out{tuple(res.shape)} "
              f"max|out|={res.abs().max():.3f}")

    with open(out / "manifest.json", "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")

    # RoPE tables
    rt, rj = rope_tables()
    save_file(rt, str(out / "rope_tables.safetensors"))
    with open(out / "rope_tables.json", "w") as f:
        json.dump(rj, f, indent=1)
        f.write("\n")

    # timestep embedding (frequencies as float32 values, products/cos/sin in float64)
    tt = torch.tensor(TIMESTEPS, dtype=torch.float64)
    emb = timestep_embedding(tt, 256)
    save_file({"t": tt.float(), "emb": emb.float().contiguous()},
              str(out / "timestep_embedding.safetensors"))
    for f in out.iterdir():
        os.chmod(f, 0o644)
    print(f"wrote {len(manifest)} cases to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
