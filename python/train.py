#!/usr/bin/env python3
"""Train FiT Explorer's embedded emoji model: a small FiTv2-style FiT on the latents of its own VAE.

Recipe (JSON, e.g. python/recipes/embedded.json): model config with the official constructor
parameter names, optimizer, LR schedule, resolution stages, EMA, seed, steps and intervals.

Training follows FiTv2 (docs/model.md sections 4.2 and 6):
  * latent space, like the official models: the recipe's ``data.vae`` (python/train_vae.py, a
    small AutoencoderKL with downsampling factor 4) encodes every training view once (posterior
    mean x scaling factor); the FiT learns those latents;
  * rectified flow: x_t = t*x1 + (1-t)*x0 (x1 = scaled latent, x0 = noise, t=0 noise, t=1 data),
    target u = x1 - x0, t = sigmoid(N(0,1)) (logit-normal); class dropout for guidance;
  * flexible resolution: sizes and aspect ratios from the stage's list (resize + pad/crop of the
    art, optionally mirrored); each batch is one size (bucketed, so no token is padding) with as
    many images as fit the stage's token budget; loss = masked MSE x N/N_valid per sample;
  * stages with their own sizes and token budget;
  * EMA with warm-up: decay_k = min(ema_decay, (1+k)/(10+k)).
bf16 autocast on CUDA and on CPUs with native bf16 (avx512_bf16 / AMX: about 1.75x the fp32 step
rate here), else fp32 (torch threads: --threads, default 2).

Run directory python/runs/<name>/ (git-ignored):
  model.safetensors, model_ema.safetensors   raw / EMA weights (F32) with metadata fit_config,
                                             class_names and fit_training (step, recipe, weights)
  train_state.pt                             optimizer, step, RNG states (for --resume)
  recipe.json, log.jsonl, samples/step-NNNNNN.png, snapshots/ema-step-NNNNNN.safetensors

Usage:
  .venv/bin/python python/train.py --recipe python/recipes/embedded.json          # new run
  .venv/bin/python python/train.py --recipe python/recipes/embedded.json --resume # continue
  .venv/bin/python python/train.py --init Sources/FiTTUI/Resources/fit-emoji.safetensors
                                   # new run that starts from the shipped (committed) weights
  .venv/bin/python python/train.py --recipe python/recipes/embedded-deep.json \
      --init Sources/FiTTUI/Resources/fit-emoji.safetensors
                                   # a deeper model grown from the shipped one (identity blocks)
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import signal
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn

PY = Path(__file__).resolve().parent
sys.path.insert(0, str(PY))

import emoji_dataset as ED  # noqa: E402
from fit_reference import FiT, image_to_tokens, tokens_to_image  # noqa: E402
from fit_reference import rope as rope_mod  # noqa: E402
from fit_reference.model import CONFIG_KEYS  # noqa: E402

RUNS = PY / "runs"
VAE_FACTOR = 4   # pixels per latent cell of the embedded VAE (python/train_vae.py)


# ----------------------------------------------------------------------------------------------
# recipe
# ----------------------------------------------------------------------------------------------

def load_recipe(path: Path) -> dict:
    with open(path) as f:
        r = json.load(f)
    validate_recipe(r)
    return r


def validate_recipe(r: dict) -> None:
    m = r["model"]
    unknown = set(m) - set(CONFIG_KEYS)
    if unknown:
        raise ValueError(f"recipe model has unknown keys {sorted(unknown)}")
    cell = m["patch_size"] * VAE_FACTOR
    stages = r["stages"]
    if stages[0]["start"] != 0:
        raise ValueError("the first stage must start at step 0")
    for st in stages:
        for h, w, _ in st["sizes"]:
            if h % cell or w % cell:
                raise ValueError(f"size {h}x{w} is not a multiple of {cell} px (patch x VAE factor)")
            if (h // cell) * (w // cell) > m["context_size"]:
                raise ValueError(f"size {h}x{w} has more tokens than context_size {m['context_size']}")
            if (h // cell) * (w // cell) > st["tokens"]:
                raise ValueError(f"size {h}x{w} does not fit the stage's token budget {st['tokens']}")
    if m["num_classes"] != len(ED.CLASS_NAMES):
        raise ValueError(f"num_classes must be {len(ED.CLASS_NAMES)}")
    if m["in_channels"] != 4:
        raise ValueError("in_channels must be the VAE's 4 latent channels")


def stage_at(recipe: dict, step: int) -> Tuple[int, dict]:
    idx = 0
    for i, st in enumerate(recipe["stages"]):
        if step >= st["start"]:
            idx = i
    return idx, recipe["stages"][idx]


def lr_at(recipe: dict, step: int) -> float:
    """Linear warm-up, constant, linear cool-down over the last ``cooldown_frac`` of the steps."""
    o = recipe["optimizer"]
    lr, total = o["lr"], recipe["steps"]
    warm = o.get("warmup_steps", 0)
    if warm and step < warm:
        return lr * (step + 1) / warm
    cd = int(round(o.get("cooldown_frac", 0.0) * total))
    if cd and step >= total - cd:
        frac = (step - (total - cd)) / cd
        end = o.get("final_lr_frac", 0.1)
        return lr * (1.0 - frac * (1.0 - end))
    return lr


def ema_decay_at(recipe: dict, step: int) -> float:
    d = recipe["ema"]["decay"]
    if recipe["ema"].get("warmup", True):
        d = min(d, (1.0 + step) / (10.0 + step))
    return d


# ----------------------------------------------------------------------------------------------
# model
# ----------------------------------------------------------------------------------------------

def full_config(model_cfg: dict) -> dict:
    """Complete constructor config (every CONFIG_KEYS entry, official defaults filled in)."""
    with torch.device("meta"):
        return dict(FiT(**model_cfg).config)


def initialize_weights(model: FiT) -> None:
    """DiT/FiT initialisation: Xavier Linears, N(0, 0.02) embeddings, adaLN-Zero."""
    for m in model.modules():
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    nn.init.normal_(model.y_embedder.embedding_table.weight, std=0.02)
    nn.init.normal_(model.t_embedder.mlp[0].weight, std=0.02)
    nn.init.normal_(model.t_embedder.mlp[2].weight, std=0.02)
    zero = [blk.adaLN_modulation[-1] for blk in model.blocks]
    if model.global_adaLN_modulation is not None:
        zero.append(model.global_adaLN_modulation[-1])
    zero += [model.final_layer.adaLN_modulation[-1], model.final_layer.linear]
    for lin in zero:
        nn.init.zeros_(lin.weight)
        if lin.bias is not None:
            nn.init.zeros_(lin.bias)


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# ----------------------------------------------------------------------------------------------
# data: flexible-resolution batches
# ----------------------------------------------------------------------------------------------

class LatentViews:
    """Class-balanced, flexible-size batches of VAE latents of the emoji glyphs.

    A view is the art of one size on a white canvas of (height, width) px: fitted (the shorter
    side) or, with ``crop``, larger and centre-cropped; optionally mirrored (never for the classes
    in ``no_flip``, whose glyphs hold text or digits). Each view of every glyph is encoded once
    and cached: (N, latent_h, latent_w, C) float32.
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray, vae, scaling: float,
                 class_balance: float = 0.0, no_flip: Sequence[str] = ()):
        self.images = images
        self.labels = labels.astype(np.int64)
        self.vae, self.scaling = vae, scaling
        counts = np.bincount(self.labels, minlength=len(ED.CLASS_NAMES)).astype(np.float64)
        # sample weight ~ n_c^(-class_balance): 0 = uniform over images, 1 = uniform over classes
        w = counts[self.labels] ** (-float(class_balance))
        self.weights = w / w.sum()
        self.flippable = ~np.isin(self.labels, [ED.class_index(c) for c in no_flip])
        self._art: Dict[int, np.ndarray] = {}
        self._latents: Dict[Tuple[int, int, bool, bool], torch.Tensor] = {}

    def art(self, side: int) -> np.ndarray:
        if side not in self._art:
            self._art[side] = ED.resize_images(self.images, side)
        return self._art[side]

    def canvases(self, height: int, width: int, crop: bool, flip: bool) -> np.ndarray:
        """(N, height, width, 3) uint8 views of every glyph."""
        art = self.art(ED.art_side(height, width, crop))
        if flip:
            art = art[:, :, ::-1]
        return np.stack([ED.place_center(a, height, width, fill=255) for a in art])

    def latents(self, height: int, width: int, crop: bool = False, flip: bool = False) -> torch.Tensor:
        key = (height, width, crop and height != width, flip)
        if key not in self._latents:
            import train_vae
            pix = torch.from_numpy(self.canvases(*key)).permute(0, 3, 1, 2).float() / 127.5 - 1.0
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=native_bf16()):
                z = train_vae.encode(self.vae, pix, self.scaling)
            self._latents[key] = z.float().permute(0, 2, 3, 1).contiguous()
        return self._latents[key]

    def sample(self, rng: np.random.Generator, stage: dict):
        """One size for the whole batch, as many images as the token budget allows:
        (list of (h, w, C) latents, labels (B,) int64)."""
        sizes = stage["sizes"]
        probs = np.array([s[2] for s in sizes], dtype=np.float64)
        h, w = sizes[rng.choice(len(sizes), p=probs / probs.sum())][:2]
        batch = max(1, stage["tokens"] // ((h // VAE_FACTOR) * (w // VAE_FACTOR)))
        idx = rng.choice(len(self.labels), size=batch, p=self.weights)
        crop = rng.random(batch) < stage.get("crop_prob", 0.0)
        flip = (rng.random(batch) < stage.get("flip_prob", 0.0)) & self.flippable[idx]
        views = [self.latents(h, w, bool(c), bool(f))[i] for i, c, f in zip(idx, crop, flip)]
        return [v.numpy() for v in views], torch.from_numpy(self.labels[idx])


def pack(images: Sequence[np.ndarray], patch: int, context: int):
    """FiT packing: one image per sequence, padded to the longest sequence of the batch.

    images: list of (H, W, C) arrays. Returns x (B, L, C*p*p) float32 (zeros on padding),
    grid (B, 2, L) int64 ([:,0] = column, [:,1] = row, 0 on padding), mask (B, L) float32
    (1 = valid token), size (B, 2) int64 (h, w in tokens).
    """
    hw = [(im.shape[0] // patch, im.shape[1] // patch) for im in images]
    lengths = [h * w for h, w in hw]
    L = max(lengths)
    if L > context:
        raise ValueError(f"an image has {L} tokens, more than the context size {context}")
    B = len(images)
    K = images[0].shape[2] * patch * patch
    x = torch.zeros(B, L, K)
    grid = torch.zeros(B, 2, L, dtype=torch.int64)
    mask = torch.zeros(B, L)
    size = torch.zeros(B, 2, dtype=torch.int64)
    for b, im in enumerate(images):
        h, w = hw[b]
        n = h * w
        t = torch.from_numpy(np.ascontiguousarray(im)).permute(2, 0, 1)[None].float()
        x[b, :n] = image_to_tokens(t, patch)[0]
        grid[b, :, :n] = rope_mod.row_major_grid(h, w)[0]
        mask[b, :n] = 1.0
        size[b, 0], size[b, 1] = h, w
    return x, grid, mask, size


def masked_flow_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per sample: mean over (N, K) of mask * (pred - target)^2, times N / N_valid; batch mean."""
    se = (pred.float() - target.float()).pow(2) * mask[..., None]
    per = se.mean(dim=(1, 2)) * (mask.shape[1] / mask.sum(dim=1).clamp_min(1.0))
    return per.mean()


def flow_inputs(x1: torch.Tensor, mask: torch.Tensor, gen: Optional[torch.Generator] = None,
                t: Optional[torch.Tensor] = None):
    """Noise x0, logit-normal t, x_t and target u = x1 - x0 (padding stays zero)."""
    B = x1.shape[0]
    x0 = torch.randn(x1.shape, generator=gen)
    if t is None:
        t = torch.sigmoid(torch.randn(B, generator=gen))
    xt = t[:, None, None] * x1 + (1.0 - t[:, None, None]) * x0
    u = x1 - x0
    m = mask[..., None]
    return xt * m, t, u * m


# ----------------------------------------------------------------------------------------------
# sampling (simple Euler flow sampler with classifier-free guidance, for progress images)
# ----------------------------------------------------------------------------------------------

@torch.no_grad()
def euler_sample(model: FiT, y: torch.Tensor, height: int, width: int, steps: int = 20,
                 cfg: float = 1.5, gen: Optional[torch.Generator] = None,
                 device: torch.device = torch.device("cpu")) -> torch.Tensor:
    """Euler on t = 0 -> 1 (t = 1 is data); returns latents (B, C, H/4, W/4) for a height x width
    pixel image."""
    p = model.patch_size
    h, w = height // (p * VAE_FACTOR), width // (p * VAE_FACTOR)
    B, N = y.shape[0], h * w
    K = model.in_channels * p * p
    x = torch.randn(B, N, K, generator=gen).to(device)
    grid = rope_mod.row_major_grid(h, w, 2 * B if cfg != 1.0 else B, device=device)
    y = y.to(device)
    null = torch.full_like(y, model.num_classes)
    ts = torch.linspace(0.0, 1.0, steps + 1)
    for i in range(steps):
        t = torch.full((B,), float(ts[i]), device=device)
        dt = float(ts[i + 1] - ts[i])
        if cfg != 1.0:
            out = model(torch.cat([x, x]), torch.cat([t, t]), torch.cat([y, null]), grid, None,
                        pe_hw=(h, w)).float()
            cond, uncond = out[:B], out[B:]
            v = uncond + cfg * (cond - uncond)
        else:
            v = model(x, t, y, grid, None, pe_hw=(h, w)).float()
        x = x + v * dt
    return tokens_to_image(x.cpu(), h, w, p)


def to_uint8(img: torch.Tensor) -> np.ndarray:
    """(3, H, W) in [-1, 1] -> (H, W, 3) uint8 as the official decode (127.5 x + 128, truncated)."""
    return (127.5 * img + 128.0).clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()


def sample_grid(models: List[Tuple[str, FiT]], sizes: Sequence[Tuple[int, int]], steps: int,
                cfg: float, seed: int, device, vae, scaling: float, scale: int = 2) -> np.ndarray:
    """Rows = the 15 classes; columns = (model, size) pairs, plus a second seed for the first
    model at the first size. Each cell is centred in a white (maxH+4, maxW+4) box."""
    C = len(ED.CLASS_NAMES)
    y = torch.arange(C)
    cols = []
    for mi, (_, m) in enumerate(models):
        for si, (h, w) in enumerate(sizes):
            if mi > 0 and si > 0:
                continue
            seeds = [seed, seed + 1] if (mi == 0 and si == 0) else [seed]
            for s in seeds:
                g = torch.Generator().manual_seed(s * 1000 + h * 10 + w)
                import train_vae
                z = euler_sample(m, y, h, w, steps, cfg, g, device)
                cols.append(train_vae.decode(vae, z, scaling).clamp(-1.0, 1.0))
    Hc = max(h for h, _ in sizes) + 4
    Wc = max(w for _, w in sizes) + 4
    sheet = np.full((C * Hc, len(cols) * Wc, 3), 255, dtype=np.uint8)
    for ci, col in enumerate(cols):
        for r in range(C):
            im = to_uint8(col[r])
            h, w = im.shape[:2]
            y0, x0 = r * Hc + (Hc - h) // 2, ci * Wc + (Wc - w) // 2
            sheet[y0:y0 + h, x0:x0 + w] = im
    if scale > 1:
        sheet = sheet.repeat(scale, 0).repeat(scale, 1)
    return sheet


def save_png(arr: np.ndarray, path: Path) -> None:
    from PIL import Image
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path)


# ----------------------------------------------------------------------------------------------
# checkpoints
# ----------------------------------------------------------------------------------------------

def _atomic(path: Path, write) -> None:
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)


def save_weights(model: FiT, path: Path, step: int, weights: str, recipe: dict,
                 extra: Optional[dict] = None) -> None:
    from safetensors.torch import save_file
    sd = {k: v.detach().float().cpu().contiguous() for k, v in model.state_dict().items()}
    training = {"step": step, "weights": weights, "recipe": recipe.get("name", ""),
                "ema_decay": recipe["ema"]["decay"] if weights == "ema" else None,
                "objective": "rectified-flow velocity, t=0 noise, t=1 data, VAE latents x scaling factor"}
    if extra:
        training.update(extra)
    meta = {"fit_config": json.dumps(model.config), "class_names": json.dumps(list(ED.CLASS_NAMES)),
            "fit_training": json.dumps(training)}
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic(path, lambda p: save_file(sd, str(p), metadata=meta))


def load_weights(model: FiT, path: Path, grow: bool = False) -> None:
    """The FiT tensors of ``path`` (a VAE carried under ``vae.`` is skipped), strictly.

    With ``grow``, a file with fewer blocks than ``model`` also loads (depth growing): its blocks
    keep their order, spread evenly among the new ones (old block i goes to position
    floor(i * depth / old_depth)), and every new block starts as the identity — its attention
    output projection and MLP output layer are zero, so the grown model computes exactly what the
    file's model did and training continues from there."""
    from safetensors.torch import load_file
    sd = {k: v for k, v in load_file(str(path)).items() if not k.startswith("vae.")}
    old_depth = 1 + max(int(k.split(".")[1]) for k in sd if k.startswith("blocks."))
    depth = len(model.blocks)
    if grow and old_depth < depth:
        place = [i * depth // old_depth for i in range(old_depth)]
        moved = {}
        for k, v in sd.items():
            if k.startswith("blocks."):
                _, i, rest = k.split(".", 2)
                k = f"blocks.{place[int(i)]}.{rest}"
            moved[k] = v
        sd = moved
        fresh = model.state_dict()
        for i in sorted(set(range(depth)) - set(place)):
            for k in (f"blocks.{i}.attn.proj.weight", f"blocks.{i}.attn.proj.bias",
                      f"blocks.{i}.mlp.fc2.weight", f"blocks.{i}.mlp.fc2.bias"):
                if k in fresh:
                    fresh[k] = torch.zeros_like(fresh[k])
            sd.update({k: v for k, v in fresh.items() if k.startswith(f"blocks.{i}.")})
    model.load_state_dict({k: v.to(next(model.parameters()).dtype) for k, v in sd.items()},
                          strict=True)


def file_sha256(path: Path) -> str:
    import hashlib
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ----------------------------------------------------------------------------------------------
# evaluation loss (held-out split, fixed noise and t)
# ----------------------------------------------------------------------------------------------

EVAL_T = (0.2176, 0.3716, 0.5, 0.6284, 0.7824)  # sigmoid of the N(0,1) deciles 0.1/0.3/0.5/0.7/0.9


@torch.no_grad()
def eval_loss(model: FiT, batches: LatentViews, hw: Tuple[int, int], device, autocast,
              chunk: int = 128, seed: int = 1234) -> float:
    if batches is None or len(batches.labels) == 0:
        return float("nan")
    was = model.training
    model.eval()
    h, w = hw
    imgs = list(batches.latents(h, w).numpy())
    x1, grid, mask, _ = pack(imgs, model.patch_size, model.context_size)
    y = torch.from_numpy(batches.labels)
    g = torch.Generator().manual_seed(seed)
    tot, n = 0.0, 0
    for tv in EVAL_T:
        for s in range(0, len(imgs), chunk):
            sl = slice(s, s + chunk)
            B = x1[sl].shape[0]
            xt, t, u = flow_inputs(x1[sl], mask[sl], g, torch.full((B,), tv))
            with autocast():
                pred = model(xt.to(device), t.to(device), y[sl].to(device), grid[sl].to(device),
                             mask[sl].to(device))
            tot += float(masked_flow_loss(pred, u.to(device), mask[sl].to(device))) * B
            n += B
    model.train(was)
    return tot / n


# ----------------------------------------------------------------------------------------------
# training
# ----------------------------------------------------------------------------------------------

class Stop(Exception):
    pass


def native_bf16() -> bool:
    """Whether this CPU multiplies bf16 natively (avx512_bf16 or AMX), where autocast pays."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


def make_autocast(device: torch.device):
    if device.type == "cuda":
        return lambda: torch.autocast("cuda", dtype=torch.bfloat16)
    if native_bf16():
        return lambda: torch.autocast("cpu", dtype=torch.bfloat16)
    import contextlib
    return contextlib.nullcontext


def rng_state(np_rng: np.random.Generator, device) -> dict:
    st = {"torch": torch.get_rng_state(), "numpy": np_rng.bit_generator.state}
    if device.type == "cuda":
        st["cuda"] = torch.cuda.get_rng_state(device)
    return st


def restore_rng(st: dict, np_rng: np.random.Generator, device) -> None:
    torch.set_rng_state(st["torch"])
    np_rng.bit_generator.state = st["numpy"]
    if device.type == "cuda" and "cuda" in st:
        torch.cuda.set_rng_state(st["cuda"], device)


def train(recipe: dict, run_dir: Path, resume: bool = False, fresh: bool = False,
          device_name: str = "auto", threads: int = 2, data_path: Optional[Path] = None,
          max_minutes: Optional[float] = None, vae_path: Optional[Path] = None,
          init: Optional[Path] = None, log=print) -> dict:
    """Run (or continue) a training run; returns a summary dict. ``init`` starts a new run from
    the FiT weights of a file (raw and EMA alike; e.g. the shipped model)."""
    if device_name == "auto":
        device_name = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(device_name)
    if device.type == "cpu":
        torch.set_num_threads(max(1, threads))
    autocast = make_autocast(device)

    state_path = run_dir / "train_state.pt"
    if state_path.exists() and not resume and not fresh:
        raise SystemExit(f"{run_dir} already holds a run; pass --resume to continue it or --fresh to "
                         f"start over")
    resuming = resume and state_path.exists()
    if resuming:
        saved = json.loads((run_dir / "recipe.json").read_text())
        if saved.get("model") != recipe.get("model"):
            raise SystemExit(f"the model in {run_dir}/recipe.json differs from the given recipe")
        saved["steps"] = recipe["steps"]   # allow extending a run
        recipe = saved
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "recipe.json").write_text(json.dumps(recipe, indent=1) + "\n")

    # data
    data = ED.load(data_path or (PY / recipe["data"]["path"]))
    train_sel = data["split"] == 0
    eval_sel = data["split"] == 1
    limit = recipe["data"].get("limit")
    tr_idx = np.nonzero(train_sel)[0][:limit] if limit else np.nonzero(train_sel)[0]
    ev_idx = np.nonzero(eval_sel)[0][:limit] if limit else np.nonzero(eval_sel)[0]
    import train_vae
    vae_file = vae_path or (PY / recipe["data"]["vae"])
    if not Path(vae_file).exists():
        raise SystemExit(f"{vae_file} does not exist: train the VAE first (python/train_vae.py)")
    vae, vae_config = train_vae.load_vae(Path(vae_file))
    scaling = float(vae_config["scaling_factor"])
    batches = LatentViews(data["images"][tr_idx], data["labels"][tr_idx], vae, scaling,
                          recipe["data"].get("class_balance", 0.0), recipe["data"].get("no_flip", ()))
    eval_batches = LatentViews(data["images"][ev_idx], data["labels"][ev_idx], vae, scaling) if len(ev_idx) else None
    info = json.loads(str(data["info"]))
    info["vae_sha256"] = file_sha256(Path(vae_file))

    # model, EMA, optimizer
    seed = int(recipe["seed"])
    torch.manual_seed(seed)
    np_rng = np.random.default_rng(seed)
    model = FiT(**recipe["model"])
    initialize_weights(model)
    model.to(device).train()
    if init is not None and not resuming:
        load_weights(model, init, grow=True)
        log(f"initialised from {init}")
    ema = copy.deepcopy(model).eval()
    for p in ema.parameters():
        p.requires_grad_(False)
    o = recipe["optimizer"]
    opt = torch.optim.AdamW(model.parameters(), lr=o["lr"], betas=tuple(o.get("betas", (0.9, 0.999))),
                            eps=o.get("eps", 1e-8), weight_decay=o.get("weight_decay", 0.0))
    step, elapsed0 = 0, 0.0
    if resuming:
        st = torch.load(state_path, map_location="cpu", weights_only=False)
        load_weights(model, run_dir / "model.safetensors")
        load_weights(ema, run_dir / "model_ema.safetensors")
        opt.load_state_dict(st["optimizer"])
        restore_rng(st["rng"], np_rng, device)
        step, elapsed0 = int(st["step"]), float(st.get("elapsed", 0.0))
        log(f"resumed {run_dir} at step {step}")
    nparams = count_params(model)
    log(f"device {device} threads {torch.get_num_threads()} | params {nparams:,} | "
        f"train {len(tr_idx)} eval {len(ev_idx)} images | steps {recipe['steps']}")

    iv = recipe["intervals"]
    total = int(recipe["steps"])
    logf = open(run_dir / "log.jsonl", "a")
    model_params = [p for p in model.parameters()]
    ema_params = [p for p in ema.parameters()]

    stop_flag = {"sig": None}

    def on_signal(signum, _frame):
        stop_flag["sig"] = signum
    old_handlers = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}

    saved_at = {"step": -1}

    def checkpoint(reason: str):
        if saved_at["step"] == step:
            return
        saved_at["step"] = step
        save_weights(model, run_dir / "model.safetensors", step, "raw", recipe,
                     {"dataset": info.get("font_sha256", "")[:16], "vae_sha256": info["vae_sha256"][:16]})
        save_weights(ema, run_dir / "model_ema.safetensors", step, "ema", recipe)
        st = {"step": step, "optimizer": opt.state_dict(), "rng": rng_state(np_rng, device),
              "elapsed": elapsed0 + (time.time() - t_start)}
        _atomic(state_path, lambda p: torch.save(st, p))
        log(f"step {step}: checkpoint ({reason}) -> {run_dir}")

    def progress_images():
        _, stg = stage_at(recipe, max(step - 1, 0))
        sizes = [tuple(s[:2]) for s in stg["sizes"]][: iv.get("sample_sizes", 3)]
        sm = recipe["sampling"]
        model.eval()
        sheet = sample_grid([("ema", ema), ("raw", model)], sizes, sm["steps"], sm["cfg"], seed, device, vae, scaling)
        path = run_dir / "samples" / f"step-{step:06d}.png"
        save_png(sheet, path)
        model.train()
        return path

    t_start = time.time()
    last_ckpt = time.time()
    loss_acc, n_acc, t_log = 0.0, 0, time.time()
    summary = {"first_loss": None, "last_loss": None}
    cur_stage = -1
    try:
        while step < total:
            si, stg = stage_at(recipe, step)
            if si != cur_stage:
                log(f"step {step}: stage {si} tokens {stg['tokens']} sizes "
                    f"{[f'{h}x{w}' for h, w, _ in stg['sizes']]}")
                cur_stage = si
            lr = lr_at(recipe, step)
            for g in opt.param_groups:
                g["lr"] = lr
            imgs, y = batches.sample(np_rng, stg)
            x1, grid, mask, size = pack(imgs, model.patch_size, model.context_size)
            xt, t, u = flow_inputs(x1, mask)
            xt, t, u, y = xt.to(device), t.to(device), u.to(device), y.to(device)
            grid, mask, size = grid.to(device), mask.to(device), size.to(device)
            with autocast():
                pred = model(xt, t, y, grid, mask, size)
            loss = masked_flow_loss(pred, u, mask)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if o.get("grad_clip"):
                torch.nn.utils.clip_grad_norm_(model_params, o["grad_clip"])
            opt.step()
            with torch.no_grad():
                torch._foreach_lerp_(ema_params, model_params, 1.0 - ema_decay_at(recipe, step))
            step += 1
            lv = loss.item()
            if not math.isfinite(lv):
                raise RuntimeError(f"loss is {lv} at step {step}")
            loss_acc += lv
            n_acc += 1
            if summary["first_loss"] is None:
                summary["first_loss"] = lv

            if step % iv["log"] == 0 or step == total:
                now = time.time()
                rec = {"step": step, "loss": loss_acc / n_acc, "lr": lr, "stage": si,
                       "s_per_step": (now - t_log) / n_acc,
                       "elapsed_min": (elapsed0 + now - t_start) / 60}
                summary["last_loss"] = rec["loss"]
                log(f"step {step:6d} loss {rec['loss']:.4f} lr {lr:.2e} stage {si} "
                    f"{rec['s_per_step']:.2f}s/step elapsed {rec['elapsed_min']:.1f}min")
                logf.write(json.dumps(rec) + "\n")
                logf.flush()
                loss_acc, n_acc, t_log = 0.0, 0, now
            if iv.get("eval") and (step % iv["eval"] == 0 or step == total) and eval_batches is not None:
                hw = tuple(stg["sizes"][0][:2])
                te = time.time()
                ev = {"step": step, "eval_hw": list(hw),
                      "eval_loss_raw": eval_loss(model, eval_batches, hw, device, autocast),
                      "eval_loss_ema": eval_loss(ema, eval_batches, hw, device, autocast)}
                log(f"step {step:6d} held-out loss ({hw[0]}x{hw[1]}) raw {ev['eval_loss_raw']:.4f} "
                    f"ema {ev['eval_loss_ema']:.4f} ({time.time() - te:.0f}s)")
                logf.write(json.dumps(ev) + "\n")
                logf.flush()
            if iv.get("sample") and (step % iv["sample"] == 0 or step == total):
                ts = time.time()
                path = progress_images()
                log(f"step {step:6d} samples -> {path} ({time.time() - ts:.0f}s)")
            if iv.get("snapshot") and step % iv["snapshot"] == 0:
                save_weights(ema, run_dir / "snapshots" / f"ema-step-{step:06d}.safetensors", step, "ema", recipe)
            stage_end = any(st["start"] == step for st in recipe["stages"][1:])
            if (step % iv.get("checkpoint", 10 ** 9) == 0 or stage_end
                    or time.time() - last_ckpt > 60 * iv.get("checkpoint_minutes", 10)):
                checkpoint("interval" if not stage_end else "stage end")
                last_ckpt = time.time()
            if stop_flag["sig"] is not None:
                raise Stop(f"signal {stop_flag['sig']}")
            if max_minutes is not None and time.time() - t_start > 60 * max_minutes:
                raise Stop("--max-minutes reached")
        checkpoint("done")
        log(f"finished {total} steps in {(elapsed0 + time.time() - t_start) / 60:.1f} min")
    except Stop as e:
        checkpoint(str(e))
        log(f"stopped at step {step} ({e}); continue with --resume")
    finally:
        logf.close()
        for s, h in old_handlers.items():
            signal.signal(s, h)
    summary.update(step=step, params=nparams, run_dir=str(run_dir))
    return summary


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--recipe", type=Path, default=PY / "recipes" / "embedded.json")
    ap.add_argument("--name", help="run name (default: the recipe's name)")
    ap.add_argument("--runs", type=Path, default=RUNS, help="parent folder of run directories")
    ap.add_argument("--resume", action="store_true", help="continue the run in runs/<name>/ if it exists")
    ap.add_argument("--fresh", action="store_true", help="start over even if runs/<name>/ holds a run")
    ap.add_argument("--steps", type=int, help="override the recipe's total steps")
    ap.add_argument("--device", default="auto", help="auto (cuda if available), cpu or cuda")
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    ap.add_argument("--data", type=Path, help="dataset cache (default: the recipe's data.path)")
    ap.add_argument("--max-minutes", type=float, help="checkpoint and stop after this many minutes")
    ap.add_argument("--vae", type=Path, help="the VAE (default: the recipe's data.vae)")
    ap.add_argument("--init", type=Path, help="start a new run from these FiT weights (e.g. the shipped model)")
    args = ap.parse_args(argv)
    recipe = load_recipe(args.recipe)
    if args.steps:
        recipe["steps"] = args.steps
    name = args.name or recipe["name"]
    t0 = time.time()

    def log(msg):
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)
    summary = train(recipe, args.runs / name, resume=args.resume, fresh=args.fresh,
                    device_name=args.device, threads=args.threads, data_path=args.data,
                    max_minutes=args.max_minutes, vae_path=args.vae, init=args.init, log=log)
    log(f"done: step {summary['step']} in {(time.time() - t0) / 60:.1f} min")
    # Stopped early (--max-minutes, a signal): a distinct status, so that a chain of stages
    # (`make train`) stops here and continues with --resume next time.
    return 0 if summary["step"] >= recipe["steps"] else 3


if __name__ == "__main__":
    sys.exit(main())
