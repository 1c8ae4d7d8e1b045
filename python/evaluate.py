#!/usr/bin/env python3
"""Class-fidelity evaluation of an emoji FiT checkpoint with a small CNN classifier.

A small CNN is trained (deterministically: fixed seed, CPU, fixed thread count) on the TRAIN split
of the emoji dataset (``python/data/emoji-64.npz``, images resized to 32x32, light augmentation)
and cached in ``python/runs/classifier/`` (retrained only when its recipe or the dataset changes).
It then reports, per class and overall, the share of images it assigns to the class they were
meant to show:

  real held-out           the dataset's eval split (what a perfect generator could reach)
  noise                   N(0, 1) pixel noise, N per class (chance check: overall ~ 1/15)
  one row per size x RoPE mode   ``--sizes`` (height x width px) x ``--modes``

Modes: ``auto`` is what ``fit`` itself picks for the size (the checkpoint's ``fit_sampling``:
plain RoPE within the trained sizes, its ``extrapolation`` setting beyond them); ``plain``,
``ntk``, ``visionntk`` (ntk-aware, decoupled), ``visionyarn`` and ``ntkpro2`` (decoupled) force
one, with ori_max_pe_len = sqrt(context_size).

Samples come from the reference sampler (``fit_reference.sampling``) and, for latent models, the
VAE the checkpoint carries; sample i of a class uses seed ``--seed + i``, the same image
``fit generate --class C --seed S`` makes (batch of one, the official CPU noise stream).
Non-square samples are classified on their centred square crop (the training data puts the
emoji there); other sizes are Lanczos-resized to 32x32. "overall" is the mean of the 15
per-class shares (the real held-out split is unbalanced: person is half of it; its micro
average is in the JSON).

Memorisation: each sample (at 32x32, as classified) is compared with every training glyph and
its mirror image; "copies" is the share of samples whose nearest one is within RMS
``COPY_RMS`` (0..1 scale), "nearest" the median distance to it. The held-out real glyphs give
the scale: they are new emoji, and their nearest training glyph is usually a close relative.

Outputs: a Markdown table (printed and written to ``--out``, default python/runs/evaluation.md),
the numbers as JSON next to it (same name, .json), and a contact sheet of the samples per row
(``<out stem>-<row>.png``, rows = classes, columns = seeds) unless ``--no-sheets``.

``--sweep`` instead compares sampler settings at 32x32 (cfg values at --steps, step counts at
--cfg, optionally other samplers) and writes ``python/runs/sweep.md`` / ``.json``.

Usage (from the repository root, at low priority next to a training run):
  nice -n 19 .venv/bin/python python/evaluate.py                       # the embedded EMA model
  nice -n 19 .venv/bin/python python/evaluate.py --checkpoint python/runs/embedded/snapshots/ema-step-001000.safetensors --per-class 4
  nice -n 19 .venv/bin/python python/evaluate.py --sweep                # cfg 1..5, 10..50 steps
  nice -n 19 .venv/bin/python python/evaluate.py --classifier-only     # (re)train / check the CNN
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

PY = Path(__file__).resolve().parent
sys.path.insert(0, str(PY))

import emoji_dataset as ED  # noqa: E402
from fit_reference import sampling as S  # noqa: E402

CLASS_NAMES = ED.CLASS_NAMES
NUM_CLASSES = len(CLASS_NAMES)
SIDE = 32                                   # classifier input side (px)
DEFAULT_CHECKPOINT = PY / "runs" / "embedded" / "model_ema.safetensors"
DEFAULT_DATA = ED.DEFAULT_OUT
CLASSIFIER_DIR = PY / "runs" / "classifier"
DEFAULT_OUT = PY / "runs" / "evaluation.md"
DEFAULT_SWEEP_OUT = PY / "runs" / "sweep.md"

# Everything that changes the classifier's weights; its hash (with the dataset digest) keys the cache.
CLASSIFIER_RECIPE = dict(
    version=1,
    side=SIDE,
    widths=(32, 48, 96),
    epochs=14,
    batch=64,
    lr=3e-3,
    weight_decay=5e-4,
    label_smoothing=0.05,
    sample_balance=0.75,        # draw images with weight ~ n_c^-power (0 = uniform, 1 = classes equal)
    class_weight_power=0.0,     # loss weight ~ n_c^-power (0 = none)
    aug_scale=(0.8, 1.05),      # emoji size relative to the canvas
    aug_shift_px=2.0,           # max translation (px at 32x32)
    aug_flip=0.5,               # horizontal flip probability
    aug_blur=0.3,               # probability of a down/up-sampling blur
    aug_noise=0.06,             # max std of additive Gaussian noise (in [-1, 1] units)
    seed=1234,
    threads=1,                  # fixed: results do not depend on the machine's core count
)

COPY_RMS = 0.05                 # a sample this close (RMS, 0..1) to a training glyph counts as a copy
BLANK_DEVIATION = 40            # a pixel is "inked" when some channel is < 255 - this
BLANK_INK_SHARE = 0.05          # an image is "near-blank" when under 5 % of its pixels are inked


# ----------------------------------------------------------------------------------------------
# data pipeline
# ----------------------------------------------------------------------------------------------

def center_square(img: np.ndarray) -> np.ndarray:
    """Centred square crop (side = the shorter side) of an (H, W, C) array."""
    h, w = img.shape[:2]
    s = min(h, w)
    y0, x0 = (h - s) // 2, (w - s) // 2
    return img[y0:y0 + s, x0:x0 + s]


def classifier_images(images: np.ndarray | Sequence[np.ndarray], side: int = SIDE) -> np.ndarray:
    """uint8 (N, H, W, 3) (or a list of differently sized ones) -> uint8 (N, side, side, 3):
    centred square crop, then Pillow Lanczos resize when the side differs."""
    from PIL import Image
    out = np.empty((len(images), side, side, 3), dtype=np.uint8)
    for i, im in enumerate(images):
        sq = center_square(np.asarray(im, dtype=np.uint8))
        if sq.shape[0] != side:
            sq = np.asarray(Image.fromarray(np.ascontiguousarray(sq)).resize(
                (side, side), Image.Resampling.LANCZOS))
        out[i] = sq
    return out


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W, 3) -> float32 (N, 3, H, W) in [-1, 1] (white = 1)."""
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float()
    return x / 127.5 - 1.0


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """Model output (B, 3, H, W) in [-1, 1] -> uint8 (B, H, W, 3), the project's pixel mapping
    clamp(127.5 x + 128, 0, 255) truncated (what ``fit generate`` writes)."""
    return (127.5 * x.float() + 128.0).clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()


def noise_images(n: int, height: int, width: int, seed: int) -> np.ndarray:
    """n pure-noise images (N(0, 1) pixels, like a sampler's starting point) as uint8 (n, H, W, 3)."""
    g = torch.Generator().manual_seed(int(seed))
    return to_uint8(torch.randn(n, 3, height, width, generator=g))


def ink_share(images: np.ndarray) -> np.ndarray:
    """Share of non-white pixels per image (some channel < 255 - BLANK_DEVIATION)."""
    inked = (images.astype(np.int16) < 255 - BLANK_DEVIATION).any(axis=-1)
    return inked.reshape(len(images), -1).mean(axis=1)


def diversity(images: np.ndarray, labels: np.ndarray) -> float:
    """Mean over classes (with >= 2 images) of the mean pairwise RMS pixel distance (0..1) of the
    classifier-size images of that class: 0 = all samples identical."""
    x = classifier_images(images).reshape(len(images), -1).astype(np.float64) / 255.0
    vals = []
    for c in np.unique(labels):
        xc = x[labels == c]
        if len(xc) < 2:
            continue
        d2 = ((xc[:, None, :] - xc[None, :, :]) ** 2).mean(axis=-1)
        iu = np.triu_indices(len(xc), 1)
        vals.append(float(np.sqrt(d2[iu]).mean()))
    return float(np.mean(vals)) if vals else float("nan")


def nearest_training_rms(images: np.ndarray, train_images: np.ndarray, chunk: int = 256) -> np.ndarray:
    """Per image, the RMS distance (0..1) to the nearest training glyph or its mirror image, both
    at the classifier size."""
    x = classifier_images(images).reshape(len(images), -1).astype(np.float32) / 255.0
    tr = classifier_images(train_images)
    ref = np.concatenate([tr, tr[:, :, ::-1]]).reshape(2 * len(tr), -1).astype(np.float32) / 255.0
    ref_sq = (ref ** 2).sum(1)
    out = np.empty(len(x), dtype=np.float64)
    for i in range(0, len(x), chunk):
        xi = x[i:i + chunk]
        d2 = (xi ** 2).sum(1)[:, None] + ref_sq[None, :] - 2.0 * xi @ ref.T
        out[i:i + chunk] = np.sqrt(np.maximum(d2.min(1), 0.0) / x.shape[1])
    return out


# ----------------------------------------------------------------------------------------------
# classifier
# ----------------------------------------------------------------------------------------------

class SmallCNN(nn.Module):
    """Conv3x3-BN-ReLU stages (two convs in the 2nd and 3rd) with 2x2 max-pool, global average
    pool, linear; ~0.17 M parameters with the default widths."""

    def __init__(self, widths: Sequence[int] = (32, 48, 96), num_classes: int = NUM_CLASSES):
        super().__init__()
        layers, cin = [], 3
        for i, w in enumerate(widths):
            layers += [nn.Conv2d(cin, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True)]
            if i > 0:   # a second conv in the 16x16 and 8x8 stages
                layers += [nn.Conv2d(w, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True)]
            layers.append(nn.MaxPool2d(2))
            cin = w
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Dropout(0.2), nn.Linear(cin, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean(dim=(2, 3)))


def augment(x: torch.Tensor, recipe: dict, gen: torch.Generator) -> torch.Tensor:
    """Light augmentation of a batch in [-1, 1] (white background): random scale, shift and flip
    (bilinear resampling, white outside), sometimes a blur, additive noise; clamped to [-1, 1]."""
    B, _, H, W = x.shape
    lo, hi = recipe["aug_scale"]
    s = lo + (hi - lo) * torch.rand(B, generator=gen)
    flip = torch.where(torch.rand(B, generator=gen) < recipe["aug_flip"], -1.0, 1.0)
    shift = (torch.rand(B, 2, generator=gen) * 2 - 1) * (2 * recipe["aug_shift_px"] / H)
    theta = torch.zeros(B, 2, 3)
    theta[:, 0, 0] = flip / s
    theta[:, 1, 1] = 1.0 / s
    theta[:, :, 2] = shift
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    # sample (x - 1) so that zero padding means white
    y = F.grid_sample(x - 1.0, grid, mode="bilinear", padding_mode="zeros", align_corners=False) + 1.0
    blur = torch.rand(B, generator=gen) < recipe["aug_blur"]
    if blur.any():
        yb = y[blur]
        small = F.interpolate(yb, scale_factor=0.5, mode="bilinear", align_corners=False, antialias=True)
        y[blur] = F.interpolate(small, size=(H, W), mode="bilinear", align_corners=False)
    std = recipe["aug_noise"] * torch.rand(B, 1, 1, 1, generator=gen)
    y = y + std * torch.randn(y.shape, generator=gen)
    return y.clamp(-1.0, 1.0)


def recipe_key(recipe: dict, data_digest: str) -> str:
    blob = json.dumps(recipe, sort_keys=True) + data_digest
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def split_arrays(data: dict, split: int) -> Tuple[np.ndarray, np.ndarray]:
    """(images resized to SIDE, labels) of the train (0) or eval (1) split."""
    m = data["split"] == split
    return ED.resize_images(data["images"][m], SIDE), data["labels"][m].astype(np.int64)


@torch.no_grad()
def predict(model: nn.Module, images: np.ndarray, batch: int = 256) -> Tuple[np.ndarray, np.ndarray]:
    """Class predictions and softmax probabilities for uint8 images of any size (see
    ``classifier_images``)."""
    model.eval()
    x = to_tensor(classifier_images(images))
    probs = []
    for i in range(0, len(x), batch):
        probs.append(torch.softmax(model(x[i:i + batch]), dim=1))
    p = torch.cat(probs).numpy() if probs else np.zeros((0, NUM_CLASSES), np.float32)
    return p.argmax(axis=1), p


def train_classifier(train_x: np.ndarray, train_y: np.ndarray, recipe: dict = CLASSIFIER_RECIPE,
                     log=print) -> SmallCNN:
    """Train the CNN deterministically (seeded; fixed threads) on uint8 (N, SIDE, SIDE, 3)."""
    threads_before = torch.get_num_threads()
    torch.set_num_threads(int(recipe["threads"]))
    try:
        torch.manual_seed(recipe["seed"])
        gen = torch.Generator().manual_seed(recipe["seed"])
        model = SmallCNN(recipe["widths"])
        x_all = to_tensor(train_x)
        y_all = torch.from_numpy(train_y.astype(np.int64))
        counts = np.bincount(train_y, minlength=NUM_CLASSES).astype(np.float64)
        w = np.where(counts > 0, np.maximum(counts, 1.0) ** (-recipe["class_weight_power"]), 0.0)
        w = w / (w[train_y].mean())       # mean weight over the training images = 1
        weight = torch.tensor(w, dtype=torch.float32)
        opt = torch.optim.AdamW(model.parameters(), lr=recipe["lr"], weight_decay=recipe["weight_decay"])
        n, bs, epochs = len(x_all), recipe["batch"], recipe["epochs"]
        per_epoch = math.ceil(n / bs)
        draw_w = torch.tensor(np.maximum(counts, 1.0)[train_y] ** (-recipe["sample_balance"]))
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=recipe["lr"], total_steps=epochs * per_epoch,
                                                    pct_start=0.15)
        t0 = time.time()
        for ep in range(epochs):
            model.train()
            perm = torch.multinomial(draw_w, n, replacement=True, generator=gen)
            tot, correct = 0.0, 0
            for k in range(per_epoch):
                idx = perm[k * bs:(k + 1) * bs]
                xb = augment(x_all[idx], recipe, gen)
                logits = model(xb)
                loss = F.cross_entropy(logits, y_all[idx], weight=weight,
                                       label_smoothing=recipe["label_smoothing"])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                tot += loss.item() * len(idx)
                correct += int((logits.argmax(1) == y_all[idx]).sum())
            log(f"  classifier epoch {ep + 1:2d}/{epochs}: loss {tot / n:.3f}, train acc "
                f"{correct / n:.3f} ({time.time() - t0:.0f} s)")
        return model.eval()
    finally:
        torch.set_num_threads(threads_before)


def load_or_train_classifier(data: dict, cache_dir: Path = CLASSIFIER_DIR, retrain: bool = False,
                             recipe: dict = CLASSIFIER_RECIPE, log=print) -> Tuple[SmallCNN, dict]:
    """The cached classifier for this recipe and dataset, trained (and cached) when missing."""
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    digest = ED.content_digest(data)
    key = recipe_key(recipe, digest)
    path = Path(cache_dir) / f"classifier-{key}.safetensors"
    if path.is_file() and not retrain:
        model = SmallCNN(recipe["widths"])
        model.load_state_dict(load_file(str(path)))
        with safe_open(str(path), framework="pt") as f:
            info = json.loads(f.metadata()["info"])
        log(f"classifier: cached {path.relative_to(PY.parent) if path.is_relative_to(PY.parent) else path}")
        return model.eval(), info
    log(f"classifier: training (recipe {key}) on the train split ...")
    t0 = time.time()
    tx, ty = split_arrays(data, 0)
    model = train_classifier(tx, ty, recipe, log)
    seconds = time.time() - t0
    ex, ey = split_arrays(data, 1)
    pred, _ = predict(model, ex)
    info = dict(key=key, data_digest=digest, recipe=recipe, train_images=int(len(ty)),
                eval_images=int(len(ey)), eval_accuracy=float((pred == ey).mean()),
                train_seconds=round(seconds, 1), torch=torch.__version__)
    info = json.loads(json.dumps(info, sort_keys=True))      # as it reads back from the cache
    path.parent.mkdir(parents=True, exist_ok=True)
    sd = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    tmp = path.with_name(path.name + ".tmp")
    save_file(sd, str(tmp), metadata={"info": json.dumps(info, sort_keys=True)})
    tmp.replace(path)
    log(f"classifier: held-out accuracy {info['eval_accuracy']:.3f}, trained in {seconds:.0f} s, "
        f"cached as {path}")
    return model, info


# ----------------------------------------------------------------------------------------------
# scoring and tables
# ----------------------------------------------------------------------------------------------

def class_shares(pred: np.ndarray, labels: np.ndarray) -> dict:
    """Share of images of each requested class predicted as that class; overall = mean of the
    per-class shares (classes without images are skipped: None), micro = share of all images."""
    pred, labels = np.asarray(pred), np.asarray(labels)
    per, counts = [], []
    for c in range(NUM_CLASSES):
        m = labels == c
        counts.append(int(m.sum()))
        per.append(float((pred[m] == c).mean()) if m.any() else None)
    have = [v for v in per if v is not None]
    return dict(overall=float(np.mean(have)) if have else float("nan"),
                micro=float((pred == labels).mean()) if len(labels) else float("nan"),
                per_class=per, counts=counts)


def _pct(v) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:.0f}"


def format_table(rows: Sequence[Tuple[str, dict]], first_header: str = "images") -> str:
    """Markdown table: one row per (label, class_shares result); columns overall + 15 classes,
    values in percent."""
    head = [first_header, "overall"] + list(CLASS_NAMES)
    lines = ["| " + " | ".join(head) + " |",
             "|" + "|".join([":---"] + ["---:"] * (len(head) - 1)) + "|"]
    for label, r in rows:
        cells = [label, f"**{_pct(r['overall'])}**"] + [_pct(v) for v in r["per_class"]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def format_extra_table(rows: Sequence[Tuple[str, dict]]) -> str:
    """Secondary table: near-blank share, diversity, memorisation, sampling time."""
    lines = ["| images | near-blank | diversity | copies | nearest | seconds |", "|:---|---:|---:|---:|---:|---:|"]
    for label, r in rows:
        blank = "–" if r.get("blank") is None else f"{100 * r['blank']:.0f} %"
        div = "–" if r.get("diversity") is None else f"{r['diversity']:.3f}"
        copies = "–" if r.get("copies") is None else f"{100 * r['copies']:.1f} %"
        near = "–" if r.get("nearest") is None else f"{r['nearest']:.3f}"
        sec = "–" if r.get("seconds") is None else f"{r['seconds']:.0f}"
        lines.append(f"| {label} | {blank} | {div} | {copies} | {near} | {sec} |")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# generation
# ----------------------------------------------------------------------------------------------

def checkpoint_info(path: Path) -> dict:
    from safetensors import safe_open
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
    cfg = json.loads(meta.get("fit_config", "{}"))
    training = json.loads(meta["fit_training"]) if "fit_training" in meta else {}
    sampling = json.loads(meta["fit_sampling"]) if "fit_sampling" in meta else {}
    vae = json.loads(meta["vae_config"]) if "vae_config" in meta else None
    factor = 2 ** (len(vae["block_out_channels"]) - 1) if vae else 1
    return dict(config=cfg, training=training, sampling=sampling, vae_factor=factor)


ROPE_MODES = {
    "plain": dict(custom_freqs="normal", decouple=False),
    "ntk": dict(custom_freqs="ntk-aware", decouple=False),
    "visionntk": dict(custom_freqs="ntk-aware", decouple=True),
    "visionyarn": dict(custom_freqs="yarn", decouple=True),
    "ntkpro2": dict(custom_freqs="ntk-aware-pro2", decouple=True),
}
# fit's --interpolation names of the modes (fit_sampling metadata)
FIT_NAMES = {"plain": ("no", False), "ntk": ("dynntk", False), "visionntk": ("dynntk", True),
             "visionyarn": ("yarn", True), "ntkpro2": ("ntkpro2", True)}


def rope_overrides(config: dict, mode: str) -> dict:
    """Config overrides of a RoPE mode; the trained side is sqrt(context_size) tokens."""
    return dict(ROPE_MODES[mode], ori_max_pe_len=int(round(math.sqrt(config["context_size"]))))


def auto_mode(info: dict, height: int, width: int) -> str:
    """The mode ``fit`` picks for a height x width px image: the checkpoint's ``extrapolation``
    recommendation beyond its trained sizes, else its plain recommendation."""
    rec = info.get("sampling", {})
    cell = info["config"]["patch_size"] * info.get("vae_factor", 1)
    h, w = height // cell, width // cell
    ext = rec.get("extrapolation")
    beyond = ext is not None and (h * w > ext["trained_tokens"] or max(h, w) > ext["trained_side"])
    chosen = ext if beyond else rec
    name = (chosen.get("interpolation", "no"), bool(chosen.get("decouple", False)))
    return next(m for m, n in FIT_NAMES.items() if n == name)


@torch.no_grad()
def generate(model, classes: Sequence[int], seeds: Sequence[int], height: int, width: int,
             sampler: str = "euler", steps: int = 30, cfg: float = 3.0, batch: int = 64,
             vae=None) -> np.ndarray:
    """uint8 (N, height, width, 3) for the (class, seed) pairs; each image equals a batch-of-one
    ``sampling.sample`` with that seed (= ``fit generate --class c --seed s``), decoded by
    ``vae`` for latent models. Euler and Heun run batched (rows are independent); the other
    samplers one image at a time."""
    cell = model.patch_size * (vae.config.upsample_factor if vae is not None else 1)
    if height % cell or width % cell:
        raise ValueError(f"{height}x{width} is not a multiple of {cell} px")
    h, w = height // cell, width // cell
    assert len(classes) == len(seeds)

    def pixels(x):
        return to_uint8(vae.decode(x.float()) if vae is not None else x)
    outs = []
    if sampler in ("euler", "heun"):
        dtype = model.x_embedder.proj.weight.dtype
        loop = S._euler if sampler == "euler" else S._heun
        for i in range(0, len(classes), batch):
            cls, sds = list(classes[i:i + batch]), list(seeds[i:i + batch])
            gm = S.GuidedModel(model, cls, cfg)
            x_T = torch.cat([S.NoiseStream(s).draw(model, 1, h, w) for s in sds]).to(dtype)
            x = torch.cat([x_T, x_T]) if gm.using_cfg else x_T.clone()
            outs.append(pixels(loop(gm, x, steps, dtype).sample))
    else:
        for c, s in zip(classes, seeds):
            tr = S.sample(model, sampler, classes=[int(c)], h=h, w=w, seed=int(s), steps=steps,
                          cfg_scale=cfg)
            outs.append(pixels(tr.sample))
    return np.concatenate(outs)


def generate_with_fit(binary: Path, checkpoint: Path, classes: Sequence[int], seeds: Sequence[int], height: int,
                      width: int, mode: str, sampler: str, steps: int, cfg: float, precision: str, threads: int,
                      vae: Path | None = None) -> np.ndarray:
    """uint8 (N, height, width, 3) made by the ``fit`` binary itself (``fit generate --count``, one
    call per run of consecutive seeds of a class) in ``precision``: what a user of the program gets,
    where ``generate`` is the PyTorch reference (fp32: the two agree within the parity tests)."""
    from PIL import Image
    interpolation, decouple = FIT_NAMES[mode]
    images = []
    with tempfile.TemporaryDirectory(prefix="fit-evaluate-") as tmp:
        i = 0
        while i < len(classes):
            j = i
            while j + 1 < len(classes) and classes[j + 1] == classes[i] and seeds[j + 1] == seeds[j] + 1:
                j += 1
            count, out = j - i + 1, Path(tmp) / f"c{int(classes[i])}.png"
            cmd = [str(binary), "generate", "--model", str(checkpoint), "--class", str(int(classes[i])),
                   "--seed", str(int(seeds[i])), "--count", str(count), "--size", f"{width}x{height}",
                   "--sampler", sampler, "--steps", str(steps), "--cfg", str(cfg), "--interpolation", interpolation,
                   "--precision", precision, "--threads", str(threads), "--out", str(out)]
            if decouple:
                cmd.append("--decouple")
            if vae is not None:
                cmd += ["--vae", str(vae)]
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip()}")
            # fit names a batch's files <stem>-<seed>.png, a single image just <out>.
            files = [out] if count == 1 else [out.with_name(f"{out.stem}-{int(seeds[i]) + k}.png") for k in range(count)]
            for f in files:
                with Image.open(f) as im:
                    images.append(np.asarray(im.convert("RGB")))
            i = j + 1
    return np.stack(images)


def sample_plan(per_class: int, seed: int) -> Tuple[np.ndarray, np.ndarray]:
    """(classes, seeds): per class, seeds seed .. seed + per_class - 1 (class-major order)."""
    classes = np.repeat(np.arange(NUM_CLASSES), per_class)
    seeds = np.tile(np.arange(per_class) + seed, NUM_CLASSES)
    return classes, seeds


def contact_sheet(images: np.ndarray, per_class: int, scale: int = 2, pad: int = 2) -> np.ndarray:
    """Rows = classes, columns = seeds (class-major images), white gaps, nearest-neighbour x scale."""
    n, H, W, _ = images.shape
    rows = n // per_class
    sheet = np.full((rows * (H + pad) + pad, per_class * (W + pad) + pad, 3), 255, np.uint8)
    for i, im in enumerate(images):
        r, c = divmod(i, per_class)
        y0, x0 = pad + r * (H + pad), pad + c * (W + pad)
        sheet[y0:y0 + H, x0:x0 + W] = im
    return sheet.repeat(scale, 0).repeat(scale, 1)


def save_png(arr: np.ndarray, path: Path) -> None:
    from PIL import Image
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path)


@dataclass
class Setting:
    label: str
    height: int
    width: int
    mode: str
    slug: str


def parse_hw(text: str) -> Tuple[int, int]:
    """'32x64' -> (32, 64) = (height, width)."""
    a, _, b = text.lower().replace("×", "x").partition("x")
    return int(a), int(b)


def settings_for(args, info: dict) -> List[Setting]:
    out = []
    for spec in args.sizes.split(","):
        h, w = parse_hw(spec)
        for mode in args.modes.split(","):
            m = auto_mode(info, h, w) if mode == "auto" else mode
            if m not in ROPE_MODES:
                raise SystemExit(f"unknown mode {mode!r}; modes: auto, {', '.join(ROPE_MODES)}")
            label = f"{h}×{w} {m}" + (" (auto)" if mode == "auto" else "")
            if all(s.label != label for s in out):
                out.append(Setting(label, h, w, m, f"{h}x{w}-{m}"))
    return out


# ----------------------------------------------------------------------------------------------
# commands
# ----------------------------------------------------------------------------------------------

DEFAULT_VAE = PY / "weights" / "vae-emoji.safetensors"


class Models:
    """The checkpoint's FiT per RoPE mode (built on first use) and its VAE: the one it carries,
    else ``vae`` (for a latent training snapshot: the embedded model's VAE by default)."""

    def __init__(self, checkpoint: Path, vae: Path | None = None):
        from fit_reference.vae import load_carried_vae, load_vae
        self.checkpoint = checkpoint
        self.base = S.load_fit_checkpoint(checkpoint)
        self.vae = load_carried_vae(checkpoint)
        self.carries_vae = self.vae is not None
        if self.vae is None and self.base.in_channels == 4:
            self.vae = load_vae(vae or DEFAULT_VAE)
        self._by_mode = {}

    def fit(self, mode: str):
        if mode not in self._by_mode:
            self._by_mode[mode] = S.load_fit_checkpoint(self.checkpoint, **rope_overrides(self.base.config, mode))
        return self._by_mode[mode]


def describe_checkpoint(path: Path) -> str:
    tr = checkpoint_info(path)["training"]
    step = tr.get("step")
    return f"`{path.name}`" + (f" (step {step}, {tr.get('weights', '?')} weights)" if step is not None else "")


def run_evaluation(args, data: dict, clf, clf_info: dict, log=print) -> dict:
    t_start = time.time()
    results: List[Tuple[str, dict]] = []
    record: Dict[str, dict] = {}

    train_x, _ = split_arrays(data, 0)

    def add(label, slug, images, labels, seconds=None, sheet=True):
        pred, _ = predict(clf, images)
        r = class_shares(pred, labels)
        r["blank"] = float((ink_share(images) < BLANK_INK_SHARE).mean())
        r["diversity"] = diversity(images, labels)
        near = nearest_training_rms(images, train_x)
        r["copies"] = float((near < COPY_RMS).mean())
        r["nearest"] = float(np.median(near))
        r["seconds"] = seconds
        r["confusion"] = np.bincount(labels * NUM_CLASSES + pred, minlength=NUM_CLASSES ** 2) \
            .reshape(NUM_CLASSES, NUM_CLASSES).tolist()
        results.append((label, r))
        record[slug] = dict(label=label, **r)
        log(f"  {label:24s} overall {100 * r['overall']:5.1f} %  near-blank {100 * r['blank']:3.0f} %"
            + (f"  ({seconds:.0f} s)" if seconds is not None else ""))
        if sheet and not args.no_sheets:
            save_png(contact_sheet(images, args.per_class), sheet_path(args.out, slug))

    ex, ey = split_arrays(data, 1)
    add(f"real held-out (n={len(ey)})", "real", ex, ey, sheet=False)
    classes, seeds = sample_plan(args.per_class, args.seed)
    noise = noise_images(len(classes), SIDE, SIDE, args.seed)
    add("noise", "noise", noise, classes, sheet=False)

    info = checkpoint_info(args.checkpoint)      # read with the weights (a training run may replace the file)
    settings = settings_for(args, info)
    models = Models(args.checkpoint, args.vae)
    torch.set_num_threads(args.threads)
    for st in settings:
        t0 = time.time()
        if args.fit is not None:
            vae = None if models.vae is None or models.carries_vae else (args.vae or DEFAULT_VAE)
            imgs = generate_with_fit(args.fit, args.checkpoint, classes, seeds, st.height, st.width, st.mode,
                                     args.sampler, args.steps, args.cfg, args.precision, args.threads, vae)
        else:
            imgs = generate(models.fit(st.mode), classes, seeds, st.height, st.width, args.sampler,
                            args.steps, args.cfg, args.batch, models.vae)
        add(st.label, st.slug, imgs, classes, seconds=time.time() - t0)

    meta = dict(checkpoint=str(args.checkpoint), checkpoint_training=info["training"],
                trained_side=int(round(math.sqrt(info["config"]["context_size"]))),
                sampler=args.sampler, steps=args.steps, cfg=args.cfg, per_class=args.per_class,
                sampled_by=f"fit {args.precision} ({args.fit})" if args.fit is not None else "PyTorch reference, fp32",
                seeds=[args.seed, args.seed + args.per_class - 1], classifier=clf_info,
                class_names=list(CLASS_NAMES), seconds=round(time.time() - t_start, 1))
    md = evaluation_markdown(results, meta, args)
    return dict(markdown=md, json=dict(meta=meta, rows=record))


def sheet_path(out: Path, slug: str) -> Path:
    out = Path(out)
    return out.with_name(f"{out.stem}-{slug}.png")


def evaluation_markdown(results, meta, args) -> str:
    ck = Path(meta["checkpoint"])
    step = meta["checkpoint_training"].get("step")
    lines = [
        f"### Class fidelity of `{ck.name}`" + (f" (step {step})" if step is not None else ""),
        "",
        f"Share (%) of images a small CNN (held-out accuracy "
        f"{100 * meta['classifier']['eval_accuracy']:.0f} %) assigns to the requested class. "
        f"Samples: {meta['sampler']}, {meta['steps']} steps, cfg {meta['cfg']:g}, "
        f"{meta['per_class']} per class (seeds {meta['seeds'][0]}–{meta['seeds'][1]}), sampled by "
        f"{meta.get('sampled_by', 'the PyTorch reference, fp32')}; sizes are "
        f"height×width; RoPE modes: plain, ntk (ntk-aware), visionntk (ntk-aware, decoupled), "
        f"visionyarn, ntkpro2 (decoupled), trained side {meta['trained_side']} tokens; "
        f"(auto) = what fit picks for the size. "
        f"Overall = mean of the class columns (chance ≈ 7 %).",
        "",
        format_table(results),
        "",
        format_extra_table(results),
        "",
        f"near-blank: under {100 * BLANK_INK_SHARE:.0f} % of the pixels differ from white; diversity: "
        f"mean pairwise RMS pixel distance (0–1) within a class; copies: share within RMS "
        f"{COPY_RMS} of a training glyph (or its mirror); nearest: median RMS to the nearest one.",
    ]
    return "\n".join(lines) + "\n"


def run_sweep(args, clf, log=print) -> dict:
    info = checkpoint_info(args.checkpoint)
    models = Models(args.checkpoint, args.vae)
    torch.set_num_threads(args.threads)
    classes, seeds = sample_plan(args.per_class, args.seed)
    h, w = parse_hw(args.sizes.split(",")[0])
    configs = []
    for sampler in args.sweep_samplers.split(","):
        for c in _floats(args.sweep_cfg):
            configs.append((sampler, args.steps, c))
        for s in _ints(args.sweep_steps):
            if (sampler, s, args.cfg) not in configs:
                configs.append((sampler, s, args.cfg))
    rows, record = [], {}
    for sampler, steps, cfg in configs:
        t0 = time.time()
        imgs = generate(models.base, classes, seeds, h, w, sampler, steps, cfg, args.batch, models.vae)
        sec = time.time() - t0
        pred, _ = predict(clf, imgs)
        r = class_shares(pred, classes)
        r["blank"] = float((ink_share(imgs) < BLANK_INK_SHARE).mean())
        r["diversity"] = diversity(imgs, classes)
        r["seconds"] = sec
        label = f"{sampler}, {steps} steps, cfg {cfg:g}"
        rows.append((label, r))
        record[label] = dict(sampler=sampler, steps=steps, cfg=cfg, **r)
        log(f"  {label:28s} overall {100 * r['overall']:5.1f} %  worst {100 * min(v for v in r['per_class'] if v is not None):3.0f} %"
            f"  near-blank {100 * r['blank']:3.0f} %  diversity {r['diversity']:.3f}  ({sec:.0f} s)")
    step = info["training"].get("step")
    best = max(rows, key=lambda lr: (round(lr[1]["overall"], 3), -lr[1]["seconds"]))
    md = "\n".join([
        f"### Sampler sweep at {h}×{w}: `{Path(args.checkpoint).name}`" + (f" (step {step})" if step is not None else ""),
        "",
        f"{args.per_class} samples per class (seeds {args.seed}–{args.seed + args.per_class - 1}); "
        f"share (%) the classifier assigns to the requested class.",
        "",
        format_table(rows, first_header="setting"),
        "",
        format_extra_table(rows).replace("| images |", "| setting |"),
        "",
        f"Highest overall: **{best[0]}** ({100 * best[1]['overall']:.0f} %). Weigh it against "
        f"diversity (guidance raises fidelity and lowers diversity) and time.",
    ]) + "\n"
    return dict(markdown=md, json=dict(meta=dict(checkpoint=str(args.checkpoint), checkpoint_training=info["training"],
                                                 per_class=args.per_class, size=[h, w]), rows=record))


def _floats(s: str) -> List[float]:
    return [float(v) for v in s.split(",") if v.strip()]


def _ints(s: str) -> List[int]:
    return [int(v) for v in s.split(",") if v.strip()]


def write_outputs(res: dict, out: Path) -> None:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(res["markdown"])
    out.with_suffix(".json").write_text(json.dumps(res["json"], indent=1, sort_keys=True) + "\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--vae", type=Path, help=f"VAE for a latent checkpoint that carries none (default {DEFAULT_VAE.relative_to(PY.parent)})")
    ap.add_argument("--per-class", type=int, default=None,
                    help="samples per class (default 8; with --sweep 4)")
    ap.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    ap.add_argument("--sampler", choices=S.FLOW_SAMPLERS, help="default: the checkpoint's recommendation, else euler")
    ap.add_argument("--steps", type=int, help="default: the checkpoint's recommendation, else 30")
    ap.add_argument("--cfg", type=float, help="default: the checkpoint's recommendation, else 3")
    ap.add_argument("--sizes", default="32x32,48x48,32x64,64x32",
                    help="sizes, height x width px, comma-separated (--sweep uses the first)")
    ap.add_argument("--modes", default="auto",
                    help="RoPE modes per size: auto (fit's choice), plain, ntk, visionntk, visionyarn, ntkpro2")
    ap.add_argument("--out", type=Path, default=None, help=f"Markdown output (default {DEFAULT_OUT}, with --sweep {DEFAULT_SWEEP_OUT})")
    ap.add_argument("--no-sheets", action="store_true", help="do not write the sample contact sheets")
    ap.add_argument("--sweep", action="store_true", help="compare sampler settings at the training size")
    ap.add_argument("--sweep-cfg", default="1,1.5,2,3,4,5", help="cfg values for --sweep (at --steps)")
    ap.add_argument("--sweep-steps", default="10,20,30,50", help="step counts for --sweep (at --cfg)")
    ap.add_argument("--sweep-samplers", default="euler", help="samplers for --sweep, comma-separated")
    ap.add_argument("--threads", type=int, default=1, help="threads for sampling, torch or fit (default 1)")
    ap.add_argument("--fit", type=Path, help="sample with this fit binary (fit generate) instead of the PyTorch reference")
    ap.add_argument("--precision", choices=["fp32", "bf16"], default="fp32",
                    help="with --fit: the precision fit samples in (default fp32)")
    ap.add_argument("--batch", type=int, default=64, help="images per sampling batch (euler/heun)")
    ap.add_argument("--classifier-dir", type=Path, default=CLASSIFIER_DIR)
    ap.add_argument("--retrain-classifier", action="store_true")
    ap.add_argument("--classifier-only", action="store_true", help="train/load the classifier, report it, stop")
    args = ap.parse_args(argv)
    if args.out is None:
        args.out = DEFAULT_SWEEP_OUT if args.sweep else DEFAULT_OUT
    if args.per_class is None:
        args.per_class = 4 if args.sweep else 8
    if args.fit is None and args.precision != "fp32":
        ap.error("--precision applies to sampling with --fit (the PyTorch reference samples in fp32)")

    t0 = time.time()
    data = ED.load(args.data)
    clf, clf_info = load_or_train_classifier(data, args.classifier_dir, args.retrain_classifier)
    if args.classifier_only:
        ex, ey = split_arrays(data, 1)
        pred, _ = predict(clf, ex)
        print(format_table([(f"real held-out (n={len(ey)})", class_shares(pred, ey))]))
        return 0
    if not Path(args.checkpoint).is_file():
        print(f"error: checkpoint {args.checkpoint} not found", file=sys.stderr)
        return 2
    print(f"checkpoint: {describe_checkpoint(Path(args.checkpoint))}")
    advice = checkpoint_info(Path(args.checkpoint))["sampling"]
    args.sampler = args.sampler or advice.get("sampler", "euler")
    args.steps = args.steps or advice.get("steps", 30)
    args.cfg = args.cfg if args.cfg is not None else advice.get("cfg", 3.0)
    res = run_sweep(args, clf) if args.sweep else run_evaluation(args, data, clf, clf_info)
    write_outputs(res, args.out)
    print()
    print(res["markdown"])
    print(f"wrote {args.out} and {Path(args.out).with_suffix('.json')} ({time.time() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
