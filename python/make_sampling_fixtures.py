#!/usr/bin/env python3
"""Write the golden sampler fixtures for the Swift FiTKit tests.

Output folder (default): Tests/FiTKitTests/Fixtures/sampling/ relative to the repository root.
Uses the tiny checkpoints in Fixtures/forward/ (run make_fixtures.py first).

Contents
  noise.safetensors      torch CPU randn float32 outputs: key seed<S>.n<N> = torch.manual_seed(S);
                         torch.randn(N) (fresh seed per key) for S in 0, 42, 2**40+7 and
                         N in 1, 7, 15, 16, 17, 100, 1000; seq.0/1/2 = three successive calls
                         randn(5), randn(33), randn(16) after one torch.manual_seed(SEQ_SEED).
  <case>.safetensors     one sampling trajectory (float32, image layout (B, C, H, W)):
                         x_T (initial noise), x_t.<k> (state at the start of step k),
                         x0.<k> (clean estimate at step k), noise.<k> (per-step noise used by the
                         conditional rows, DDPM / DDIM / SDE only), sample (final), for k in
                         recorded_steps = {0, middle, last} (dopri5: every accepted step);
                         dopri5 also nfe, accepted (I64, 1 element).
  manifest.json          array; noise entries have sampler "randn", trajectory entries the
                         sampler name (see CASE_FIELDS in the module and the report).

Every trajectory is computed in float32 (like the official code) and again in float64 from the
same weights and noise; the manifest records the relative error between the two
(max |a - b| / max |b|) so the Swift tolerance can be judged.

Usage: python python/make_sampling_fixtures.py [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fit_reference import rope as rope_mod  # noqa: E402
from fit_reference.sampling import load_fit_checkpoint, relative_error, sample  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "Tests" / "FiTKitTests" / "Fixtures"
DEFAULT_OUT = FIXTURES / "sampling"

NOISE_SEEDS = (0, 42, 2 ** 40 + 7)
NOISE_SIZES = (1, 7, 15, 16, 17, 100, 1000)
SEQ_SEED = 123
SEQ_SIZES = (5, 33, 16)

# (case, checkpoint, sampler, steps, cfg, scale_pow, guided_channels, seed, classes,
#  (h, w) tokens, interpolation, decouple, ori_max_pe_len)
CASES = [
    ("v1-ddpm", "v1-tiny", "ddpm", 10, 1.5, 0.0, 3, 7, [3, 5], (8, 8), "no", False, None),
    ("v1-ddim", "v1-tiny", "ddim", 7, 1.5, 0.0, 3, 7, [3], (8, 8), "no", False, None),
    ("v1-ddpm-nocfg-nonsquare", "v1-tiny", "ddpm", 10, 1.0, 0.0, 3, 11, [9], (6, 10), "no", False, None),
    ("v2-euler", "v2-tiny", "euler", 8, 1.5, 0.0, 3, 7, [3, 5], (8, 8), "no", False, None),
    ("v2-euler-nocfg", "v2-tiny", "euler", 8, 1.0, 0.0, 3, 7, [3], (8, 8), "no", False, None),
    ("v2-euler-scalepow-nonsquare", "v2-tiny", "euler", 8, 1.5, 1.0, 3, 7, [3], (6, 10), "no", False, None),
    ("v2-heun", "v2-tiny", "heun", 6, 1.5, 0.0, 3, 7, [3], (8, 8), "no", False, None),
    ("v2-dopri5", "v2-tiny", "dopri5", 0, 1.5, 0.0, 3, 7, [3], (8, 8), "no", False, None),
    ("v2-dopri5-nocfg-nonsquare", "v2-tiny", "dopri5", 0, 1.0, 0.0, 3, 3, [1, 8], (6, 10), "no", False, None),
    ("v2-sde", "v2-tiny", "sde", 8, 1.5, 0.0, 3, 7, [3, 5], (8, 8), "no", False, None),
    ("v2-sde-nocfg", "v2-tiny", "sde", 8, 1.0, 0.0, 3, 5, [6], (8, 8), "no", False, None),
    ("v2-beyond-ntkpro2-decouple-euler", "v2-tiny", "euler", 6, 1.5, 0.0, 3, 7, [2], (10, 14),
     "ntkpro2", True, 8),
    ("pixel-euler", "pixel-tiny", "euler", 8, 1.5, 0.0, 3, 7, [7], (8, 8), "no", False, None),
]


def noise_layout(model, sampler: str, B: int, using_cfg: bool, h: int, w: int) -> str:
    p, C = model.patch_size, model.in_channels
    N, F = h * w, p * p * C
    if model.use_sit:
        tok, desc = f"({{n}},{N},{F})", "token layout (n, N=h*w, p*p*C): [b, r*w+c, ch*p*p+p1*p+p2]"
    else:
        tok, desc = f"({{n}},{F},{N})", "v1 token layout (n, p*p*C, N=h*w): [b, ch*p*p+p1*p+p2, r*w+c]"
    S = 2 * B if using_cfg else B
    s = (f"x_T = randn{tok.format(n=B)} ({desc} -> image [b, ch, r*p+p1, c*p+p2])"
         + (f"; cfg duplicates x_T to {S} rows without a draw" if using_cfg else ""))
    if sampler == "ddpm":
        s += (f"; then per step k = 0..steps-1 AFTER the model call (also at the last step, "
              f"where it is multiplied by 0): randn{tok.format(n=S)}, rows 0..{B - 1} are the "
              f"conditional samples' noise")
    elif sampler == "ddim":
        s += (f"; then per step (after the model call) randn{tok.format(n=S)} is drawn and "
              f"multiplied by sigma = 0 (eta 0): consumes the stream, no effect on values")
    elif sampler == "sde":
        s += (f"; then per Euler-Maruyama step k = 0..steps-2 BEFORE the model call: "
              f"randn{tok.format(n=S)} (the official th.randn(x.size())), rows 0..{B - 1} used; "
              f"no draw for the last (Mean) step")
    else:
        s += "; no further draws"
    return s


def run_case(spec, dtype):
    (case, ckpt, sampler, steps, cfg, spow, gch, seed, classes, hw, interp, dec, ori) = spec
    model = load_fit_checkpoint(FIXTURES / "forward" / f"{ckpt}.safetensors", dtype=dtype,
                                **rope_mod.sampler_overrides(interp, dec, ori, hw))
    traj = sample(model, sampler, classes=classes, h=hw[0], w=hw[1], seed=seed, steps=steps,
                  cfg_scale=cfg, scale_pow=spow, guided_channels=gch, dtype=dtype)
    return model, traj


def recorded_steps(traj) -> list:
    """Steps stored in the file: {0, middle, last}; every accepted step for dopri5."""
    n = len(traj.times)
    if traj.sampler == "dopri5":
        return list(range(n))
    return sorted({0, n // 2, n - 1})


def trajectory_tensors(traj, steps) -> dict:
    out = {"x_T": traj.x_T, "sample": traj.sample}
    for k in steps:
        out[f"x_t.{k}"] = traj.xs[k]
        out[f"x0.{k}"] = traj.x0s[k]
        if k < len(traj.noises):
            out[f"noise.{k}"] = traj.noises[k]
    out = {k: v.float().contiguous() for k, v in out.items()}
    if traj.sampler == "dopri5":
        out["nfe"] = torch.tensor([traj.nfe], dtype=torch.int64)
        out["accepted"] = torch.tensor([traj.accepted], dtype=torch.int64)
    return out


def noise_tensors() -> tuple[dict, list]:
    tensors, entries = {}, []
    for seed in NOISE_SEEDS:
        for n in NOISE_SIZES:
            torch.manual_seed(seed)
            key = f"seed{seed}.n{n}"
            tensors[key] = torch.randn(n)
            entries.append({"case": f"noise.{key}", "sampler": "randn", "key": key, "seed": seed,
                            "size": n, "call": 0, "preceding_sizes": [],
                            "file": "noise.safetensors"})
    torch.manual_seed(SEQ_SEED)
    for i, n in enumerate(SEQ_SIZES):
        key = f"seq.{i}"
        tensors[key] = torch.randn(n)
        entries.append({"case": f"noise.{key}", "sampler": "randn", "key": key, "seed": SEQ_SEED,
                        "size": n, "call": i, "preceding_sizes": list(SEQ_SIZES[:i]),
                        "file": "noise.safetensors"})
    return tensors, entries


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))

    nt, manifest = noise_tensors()
    save_file(nt, str(out / "noise.safetensors"))

    for spec in CASES:
        (case, ckpt, sampler, steps, cfg, spow, gch, seed, classes, hw, interp, dec, ori) = spec
        model, t32 = run_case(spec, torch.float32)
        _, t64 = run_case(spec, torch.float64)
        p = model.patch_size
        rec = recorded_steps(t32)
        # trajectory error over the recorded steps whose times agree (dopri5 step sizes are
        # decided by rounding-level error estimates, so its later steps sit at other times)
        same_t = [k for k in rec if k < len(t64.times) and abs(t32.times[k] - t64.times[k]) < 1e-6]
        traj_err = max(max(relative_error(t32.xs[k], t64.xs[k]),
                           relative_error(t32.x0s[k], t64.x0s[k])) for k in same_t)
        file = f"{case}.safetensors"
        save_file(trajectory_tensors(t32, rec), str(out / file))
        using_cfg = cfg > 1.0
        entry = {
            "case": case,
            "checkpoint": f"forward/{ckpt}.safetensors",
            "sampler": sampler,
            "steps": len(t32.times) if sampler == "dopri5" else steps,
            "cfg": cfg,
            "using_cfg": using_cfg,
            "scale_pow": spow,
            "guided_channels": min(gch, model.in_channels),
            "seed": seed,
            "class": classes,
            "batch": len(classes),
            "grid_h": hw[0],
            "grid_w": hw[1],
            "height": hw[0] * p,
            "width": hw[1] * p,
            "channels": model.in_channels,
            "patch_size": p,
            "null_class": model.num_classes,
            "interpolation": interp,
            "custom_freqs": rope_mod.INTERPOLATION_TO_MODE[interp],
            "decouple": dec,
            "ori_max_pe_len": ori,
            "recorded_steps": rec,
            "times": t32.times,
            "nfe": t32.nfe,
            "noise_layout": noise_layout(model, sampler, len(classes), using_cfg, hw[0], hw[1]),
            "draws": [list(s) for s in t32.draws],
            "file": file,
            "rel_err_fp32_vs_fp64": relative_error(t32.sample, t64.sample),
            "traj_rel_err_fp32_vs_fp64": traj_err,
            "traj_rel_err_steps": same_t,
        }
        if sampler == "dopri5":
            entry.update({"accepted": t32.accepted, "rejected": t32.rejected,
                          "step_sizes": t32.step_sizes, "atol": 1e-6, "rtol": 1e-3,
                          "error_ratios": t32.error_ratios,
                          "accepted_fp64": t64.accepted, "nfe_fp64": t64.nfe,
                          "step_sizes_fp64": t64.step_sizes,
                          "error_ratios_fp64": t64.error_ratios})
        manifest.append(entry)
        print(f"{case:36s} {sampler:6s} steps={entry['steps']:3d} nfe={t32.nfe:3d} "
              f"max|sample|={t32.sample.abs().max():9.3f} rel32/64={entry['rel_err_fp32_vs_fp64']:.2e} "
              f"traj={traj_err:.2e}@{same_t}"
              + (f" accepted={t32.accepted}/{t64.accepted}(f64) rejected={t32.rejected}"
                 if sampler == "dopri5" else ""))

    with open(out / "manifest.json", "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    for f in out.iterdir():
        os.chmod(f, 0o644)
    total = sum(f.stat().st_size for f in out.iterdir())
    print(f"wrote {len(CASES)} trajectory cases + noise to {out} ({total / 1024:.1f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
