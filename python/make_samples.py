#!/usr/bin/env python3
"""Regenerate the README's sample sheets in ``samples/`` with the ``fit`` binary itself.

Every image is made by ``fit generate`` (so the sheets show what the Swift port produces; each
cell can be remade with ``fit generate --from`` on the PNG kept under ``--keep``); Pillow only
composes the sheets and scales them up with nearest neighbour (``--scale``, default 4):

  classes.png        one row per class, --seeds columns (seeds --seed, --seed+1, ...)
  aspect-ratios.png  the same class + seed at several sizes (WxH, fit's convention), with the
                     RoPE setting fit picks itself (the model's advice); * marks sizes beyond the
                     trained ones, where that is its extrapolation setting
  extrapolation.png  64x64, 80x40 and 96x32 (beyond the trained sizes) with --interpolation
                     no | dynntk | yarn | ntkpro2, with and without --decouple
  trajectory.png     one generation's x_t (top) and x0 prediction (bottom) at evenly spaced
                     steps, from ``fit generate --trajectory DIR`` (``--fit-sheet``: copy fit's own
                     ``--sheet`` instead)

Sampler settings default to the model's recommendation (fit reads it from the checkpoint);
--sampler / --steps / --cfg override them for every image.

Usage (from the repository root; does not build anything):
  .venv/bin/python python/make_samples.py                          # embedded model -> samples/
  .venv/bin/python python/make_samples.py --model python/runs/embedded/model_ema.safetensors
  .venv/bin/python python/make_samples.py --quick --model python/runs/embedded/model_ema.safetensors
      # 2 seeds, fewer rows, into python/runs/samples-quick/ (git-ignored)
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import numpy as np

PY = Path(__file__).resolve().parent
ROOT = PY.parent

CLASS_NAMES = ("smiley", "heart", "person", "hand", "animal", "plant", "food", "vehicle", "building",
               "sky-weather", "clock", "flag", "symbol", "object", "activity")

ASPECT_SIZES = ("32x32", "40x24", "24x40", "48x48", "64x32", "32x64", "64x64", "80x40")
ASPECT_CLASSES = ("smiley", "animal", "vehicle", "building", "food")
EXTRAP_SIZES = ("64x64", "80x40", "96x32")
EXTRAP_CLASSES = ("smiley", "animal")
EXTRAP_ROWS: Tuple[Tuple[str, bool], ...] = (
    ("no", False), ("dynntk", False), ("dynntk", True), ("yarn", False), ("yarn", True),
    ("ntkpro2", False), ("ntkpro2", True),
)
BG = (255, 255, 255)
INK = (40, 40, 40)


# ----------------------------------------------------------------------------------------------
# the fit binary
# ----------------------------------------------------------------------------------------------

def find_fit(explicit: Optional[str]) -> Path:
    """--fit, else .build/release/fit, else .build/debug/fit (never builds)."""
    if explicit:
        p = Path(explicit)
        if not p.is_file():
            sys.exit(f"error: {p} not found")
        return p
    for sub in ("release", "debug"):
        p = ROOT / ".build" / sub / "fit"
        if p.is_file():
            return p
    sys.exit("error: no fit binary in .build/release or .build/debug; build it (swift build -c release) "
             "or pass --fit PATH")


def parse_size(s: str) -> Tuple[int, int]:
    """'WxH' -> (width, height)."""
    w, _, h = s.lower().partition("x")
    return int(w), int(h)


class Fit:
    def __init__(self, binary: Path, model: Optional[Path], common: Sequence[str], work: Path,
                 verbose: bool = False):
        self.binary, self.model, self.common, self.work = binary, model, list(common), work
        self.verbose = verbose
        self.calls = 0
        self.seconds = 0.0

    def generate(self, out: Path, cls: str, seed: int, size: str, count: int = 1,
                 extra: Sequence[str] = ()) -> List[Path]:
        """Run ``fit generate``; returns the PNG paths (``<stem>-<seed>.png`` when count > 1)."""
        out.parent.mkdir(parents=True, exist_ok=True)
        cmd = [str(self.binary), "generate"]
        if self.model is not None:
            cmd += ["--model", str(self.model)]
        cmd += ["--class", cls, "--seed", str(seed), "--size", size, "--out", str(out), "--force",
                "--quiet"] + self.common + list(extra)
        if count > 1:
            cmd += ["--count", str(count)]
        if self.verbose:
            print("  $ " + " ".join(cmd))
        t0 = time.time()
        r = subprocess.run(cmd, capture_output=True, text=True)
        self.seconds += time.time() - t0
        self.calls += 1
        if r.returncode != 0:
            raise RuntimeError(f"fit failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr.strip()}")
        if count == 1:
            return [out]
        return [out.with_name(f"{out.stem}-{seed + i}{out.suffix}") for i in range(count)]


def load_rgb(path: Path) -> np.ndarray:
    from PIL import Image
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def png_parameters(path: Path) -> dict:
    from PIL import Image
    with Image.open(path) as im:
        return json.loads(im.info.get("parameters", "{}"))


# ----------------------------------------------------------------------------------------------
# sheet layout
# ----------------------------------------------------------------------------------------------

def font(size: int):
    from PIL import ImageFont
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default()


def compose(cells: Sequence[Sequence[Optional[np.ndarray]]], scale: int = 4, pad: int = 2,
            row_labels: Optional[Sequence[str]] = None, col_labels: Optional[Sequence[str]] = None,
            box: Optional[Tuple[int, int]] = None, title: Optional[str] = None):
    """Grid sheet: every cell image (H, W, 3) uint8 is scaled x ``scale`` (nearest neighbour) and
    centred in a box of the largest cell size (or ``box`` = (h, w) px before scaling); gaps of
    ``pad`` px (before scaling); optional row labels (left), column labels (top), title."""
    from PIL import Image, ImageDraw
    imgs = [c for row in cells for c in row if c is not None]
    bh = box[0] if box else max(c.shape[0] for c in imgs)
    bw = box[1] if box else max(c.shape[1] for c in imgs)
    BH, BW, P = bh * scale, bw * scale, pad * scale
    fsize = max(12, 3 * scale + 4)
    f = font(fsize)
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    tw = lambda s: int(measure.textlength(s, font=f))  # noqa: E731
    left = (max(tw(s) for s in row_labels) + 2 * P) if row_labels else 0
    top_title = (fsize + 2 * P) if title else 0
    top = top_title + ((fsize + P) if col_labels else 0)
    nrows, ncols = len(cells), max(len(r) for r in cells)
    W = left + ncols * (BW + P) + P
    H = top + nrows * (BH + P) + P
    sheet = Image.new("RGB", (W, H), BG)
    d = ImageDraw.Draw(sheet)
    if title:
        d.text((P, P), title, fill=INK, font=f)
    if col_labels:
        for c, s in enumerate(col_labels):
            x = left + P + c * (BW + P) + (BW - tw(s)) // 2
            d.text((x, top_title), s, fill=INK, font=f)
    for r, row in enumerate(cells):
        y0 = top + P + r * (BH + P)
        if row_labels:
            d.text((P, y0 + (BH - fsize) // 2), row_labels[r], fill=INK, font=f)
        for c, im in enumerate(row):
            if im is None:
                continue
            h, w = im.shape[0] * scale, im.shape[1] * scale
            big = Image.fromarray(im).resize((w, h), Image.Resampling.NEAREST)
            x0 = left + P + c * (BW + P)
            sheet.paste(big, (x0 + (BW - w) // 2, y0 + (BH - h) // 2))
    return sheet


# ----------------------------------------------------------------------------------------------
# the four sheets
# ----------------------------------------------------------------------------------------------

def sheet_classes(fit: Fit, out_dir: Path, classes: Sequence[str], seeds: int, seed: int, size: str,
                  scale: int, labels: bool):
    rows = []
    for cls in classes:
        paths = fit.generate(fit.work / "classes" / f"{cls}.png", cls, seed, size, count=seeds)
        rows.append([load_rgb(p) for p in paths])
    sheet = compose(rows, scale, row_labels=list(classes) if labels else None)
    sheet.save(out_dir / "classes.png")
    return out_dir / "classes.png"


def beyond_training(size: str, advice: dict) -> bool:
    """Whether fit uses the model's extrapolation setting for a WxH size (``fit_sampling``:
    more than trained_tokens tokens, or a side longer than trained_side tokens)."""
    ext = advice.get("extrapolation")
    if not ext:
        return False
    w, h = parse_size(size)
    cell = advice["pixels_per_token"]
    return (w // cell) * (h // cell) > ext["trained_tokens"] or max(w, h) // cell > ext["trained_side"]


def sheet_aspect(fit: Fit, out_dir: Path, classes: Sequence[str], sizes: Sequence[str], seed: int,
                 scale: int, labels: bool, advice: dict):
    rows = []
    for cls in classes:
        row = []
        for size in sizes:
            [p] = fit.generate(fit.work / "aspect" / f"{cls}-{size}.png", cls, seed, size)
            row.append(load_rgb(p))
        rows.append(row)
    cols = [s + ("*" if beyond_training(s, advice) else "") for s in sizes]
    sheet = compose(rows, scale, row_labels=list(classes) if labels else None,
                    col_labels=cols if labels else None)
    sheet.save(out_dir / "aspect-ratios.png")
    return out_dir / "aspect-ratios.png"


def sheet_extrapolation(fit: Fit, out_dir: Path, classes: Sequence[str], sizes: Sequence[str],
                        rows_spec: Sequence[Tuple[str, bool]], seed: int, scale: int, labels: bool):
    rows, names = [], []
    for interp, dec in rows_spec:
        row = []
        for cls in classes:
            for size in sizes:
                extra = ["--interpolation", interp] + (["--decouple"] if dec else [])
                tag = f"{interp}{'-decouple' if dec else ''}"
                [p] = fit.generate(fit.work / "extrapolation" / f"{cls}-{size}-{tag}.png", cls, seed,
                                   size, extra=extra)
                row.append(load_rgb(p))
        rows.append(row)
        names.append(interp + (" +decouple" if dec else ""))
    cols = [f"{cls} {s}" for cls in classes for s in sizes]
    sheet = compose(rows, scale, row_labels=names if labels else None,
                    col_labels=cols if labels else None)
    sheet.save(out_dir / "extrapolation.png")
    return out_dir / "extrapolation.png"


def trajectory_frames(folder: Path, frames: int) -> Tuple[List[int], List[np.ndarray], List[np.ndarray]]:
    """Evenly spaced steps (first and last included) of a ``--trajectory`` folder:
    (step numbers, x_t images, x0 images)."""
    steps = sorted({int(p.name.split("-")[1]) for p in folder.glob("step-*-xt.png")})
    if not steps:
        raise RuntimeError(f"no step-NNN-xt.png files in {folder}")
    if len(steps) > frames:
        idx = np.unique(np.round(np.linspace(0, len(steps) - 1, frames)).astype(int))
        steps = [steps[i] for i in idx]
    xt = [load_rgb(folder / f"step-{s:03d}-xt.png") for s in steps]
    x0 = [load_rgb(folder / f"step-{s:03d}-x0.png") for s in steps]
    return steps, xt, x0


def sheet_trajectory(fit: Fit, out_dir: Path, cls: str, seed: int, size: str, frames: int,
                     scale: int, labels: bool, use_fit_sheet: bool):
    folder = fit.work / "trajectory"
    if folder.exists():
        shutil.rmtree(folder)
    final = fit.work / f"trajectory-{cls}-{seed}.png"
    fit_sheet = fit.work / "trajectory-fit-sheet.png"
    fit.generate(final, cls, seed, size, extra=["--trajectory", str(folder), "--sheet", str(fit_sheet)])
    target = out_dir / "trajectory.png"
    if use_fit_sheet:
        from PIL import Image
        with Image.open(fit_sheet) as im:
            s = max(1, scale // 2)
            im.convert("RGB").resize((im.width * s, im.height * s), Image.Resampling.NEAREST).save(target)
        return target
    steps, xt, x0 = trajectory_frames(folder, frames)
    img = load_rgb(final)
    rows = [xt + [img], x0 + [None]]
    params = png_parameters(final)
    n = params.get("steps")
    cols = [f"step {s}" for s in steps] + ["final"]
    title = (f"{cls}, seed {seed}, {size}: {params.get('sampler', '?')} {n} steps, cfg {params.get('cfg', '?')}"
             if labels else None)
    sheet = compose(rows, scale, row_labels=["x_t", "x0"] if labels else None,
                    col_labels=cols if labels else None, title=title)
    sheet.save(target)
    return target


# ----------------------------------------------------------------------------------------------
# main
# ----------------------------------------------------------------------------------------------

EMBEDDED = ROOT / "Sources" / "FiTTUI" / "Resources" / "fit-emoji.safetensors"


def model_advice(model: Optional[Path]) -> dict:
    """The checkpoint's ``fit_sampling`` advice plus ``pixels_per_token`` (patch x VAE factor);
    only used to mark the sizes beyond the trained ones."""
    from safetensors import safe_open
    with safe_open(str(model or EMBEDDED), framework="np") as f:
        meta = f.metadata() or {}
    cfg = json.loads(meta.get("fit_config", "{}"))
    vae = json.loads(meta["vae_config"]) if "vae_config" in meta else None
    factor = 2 ** (len(vae["block_out_channels"]) - 1) if vae else (8 if cfg.get("in_channels") == 4 else 1)
    return dict(json.loads(meta.get("fit_sampling", "{}")), pixels_per_token=int(cfg.get("patch_size", 1)) * factor)


def _list(s: str) -> List[str]:
    return [v.strip() for v in s.split(",") if v.strip()]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fit", help="fit binary (default: .build/release/fit, else .build/debug/fit)")
    ap.add_argument("--model", type=Path, help="checkpoint (default: fit's embedded model)")
    ap.add_argument("--out-dir", type=Path, help="where the sheets go (default samples/; "
                    "with --quick python/runs/samples-quick/)")
    ap.add_argument("--quick", action="store_true", help="2 seeds, 4 classes, fewer sizes (a smoke test)")
    ap.add_argument("--only", default="classes,aspect,extrapolation,trajectory",
                    help="which sheets (comma-separated subset of the default)")
    ap.add_argument("--seeds", type=int, default=8, help="columns of classes.png (default 8)")
    ap.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    ap.add_argument("--size", default="32x32", help="size of classes.png cells, WxH (default 32x32)")
    ap.add_argument("--classes", default=",".join(CLASS_NAMES), help="rows of classes.png")
    ap.add_argument("--aspect-classes", default=",".join(ASPECT_CLASSES))
    ap.add_argument("--aspect-sizes", default=",".join(ASPECT_SIZES), help="WxH list")
    ap.add_argument("--aspect-seed", type=int, default=None, help="seed of aspect-ratios.png (default --seed)")
    ap.add_argument("--extrap-classes", default=",".join(EXTRAP_CLASSES))
    ap.add_argument("--extrap-sizes", default=",".join(EXTRAP_SIZES), help="WxH list")
    ap.add_argument("--trajectory-class", default="smiley")
    ap.add_argument("--trajectory-seed", type=int, default=None, help="default --seed")
    ap.add_argument("--frames", type=int, default=10, help="steps shown in trajectory.png (default 10)")
    ap.add_argument("--fit-sheet", action="store_true", help="trajectory.png = fit's own --sheet, upscaled")
    ap.add_argument("--sampler", help="override the model's recommended sampler")
    ap.add_argument("--steps", type=int, help="override the recommended step count")
    ap.add_argument("--cfg", type=float, help="override the recommended guidance scale")
    ap.add_argument("--threads", type=int, help="fit --threads (default: fit's, all cores)")
    ap.add_argument("--scale", type=int, default=4, help="nearest-neighbour upscale (default 4)")
    ap.add_argument("--no-labels", action="store_true", help="sheets without text labels")
    ap.add_argument("--keep", type=Path, help="keep the individual PNGs in this folder")
    ap.add_argument("--verbose", action="store_true", help="print every fit command")
    args = ap.parse_args(argv)

    binary = find_fit(args.fit)
    out_dir = args.out_dir or (PY / "runs" / "samples-quick" if args.quick else ROOT / "samples")
    out_dir.mkdir(parents=True, exist_ok=True)
    common: List[str] = []
    if args.sampler:
        common += ["--sampler", args.sampler]
    if args.steps:
        common += ["--steps", str(args.steps)]
    if args.cfg is not None:
        common += ["--cfg", f"{args.cfg:g}"]
    if args.threads:
        common += ["--threads", str(args.threads)]
    classes = _list(args.classes)
    aspect_classes, aspect_sizes = _list(args.aspect_classes), _list(args.aspect_sizes)
    extrap_classes, extrap_sizes = _list(args.extrap_classes), _list(args.extrap_sizes)
    extrap_rows = EXTRAP_ROWS
    seeds = args.seeds
    if args.quick:
        seeds = min(seeds, 2)
        classes = classes[:4]
        aspect_classes = aspect_classes[:2]
        aspect_sizes = [s for s in aspect_sizes if s in ("32x32", "24x40", "32x64", "64x64")] or aspect_sizes[:3]
        extrap_classes = extrap_classes[:1]
        extrap_sizes = extrap_sizes[:2]
        extrap_rows = (("no", False), ("dynntk", True), ("yarn", True), ("ntkpro2", True))
    labels = not args.no_labels
    only = set(_list(args.only))
    advice = model_advice(args.model)
    aspect_seed = args.seed if args.aspect_seed is None else args.aspect_seed
    traj_seed = args.seed if args.trajectory_seed is None else args.trajectory_seed

    print(f"fit: {binary.relative_to(ROOT) if binary.is_relative_to(ROOT) else binary}"
          f"; model: {args.model or 'embedded'}; sheets -> {out_dir}")
    t0 = time.time()
    tmp = None
    if args.keep:
        work = args.keep
        work.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="fit-samples-")
        work = Path(tmp.name)
    fit = Fit(binary, args.model, common, work, args.verbose)
    try:
        jobs = [
            ("classes", lambda: sheet_classes(fit, out_dir, classes, seeds, args.seed, args.size,
                                              args.scale, labels)),
            ("aspect", lambda: sheet_aspect(fit, out_dir, aspect_classes, aspect_sizes, aspect_seed,
                                            args.scale, labels, advice)),
            ("extrapolation", lambda: sheet_extrapolation(fit, out_dir, extrap_classes, extrap_sizes,
                                                          extrap_rows, args.seed, args.scale, labels)),
            ("trajectory", lambda: sheet_trajectory(fit, out_dir, args.trajectory_class, traj_seed,
                                                    args.size, args.frames, args.scale, labels,
                                                    args.fit_sheet)),
        ]
        for name, job in jobs:
            if name not in only:
                continue
            t1, n1 = time.time(), fit.calls
            path = job()
            from PIL import Image
            with Image.open(path) as im:
                wh = im.size
            print(f"  {path} ({wh[0]}x{wh[1]} px; {fit.calls - n1} fit runs, {time.time() - t1:.1f} s)")
    except RuntimeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    finally:
        if tmp is not None:
            tmp.cleanup()
    print(f"done in {time.time() - t0:.1f} s ({fit.calls} fit runs, {fit.seconds:.1f} s in fit)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
