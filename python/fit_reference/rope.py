"""2-D rotary position embedding for FiT / FiTv2, with every extrapolation mode.

Written for this project from the facts in docs/model.md section 3 (checked
against the official repository's behaviour). Everything here is computed in float64 unless a
dtype is given, so the fixtures carry no float32 rounding of the frequency tables.

Layout recap
------------
* per-axis dim ``dim = head_dim // 2``; each axis owns ``dim // 2`` frequencies.
* a head vector is ``[height half | width half]``; inside each half, pairs (2j, 2j+1) share
  frequency j (interleaved rotation, GPT-J style).
* ``grid[:, 0]`` is the column (w) index, ``grid[:, 1]`` the row (h) index.

Scale factors (L = ori_max_pe_len):  s(n) = max(n / L, 1)
* decouple=True : height uses s(h), width uses s(w)
* decouple=False: both axes use s(max(h, w))
The cos/sin multiplier (yarn mscale, pro1/pro2 proportion) never depends on ``decouple``.
"""

from __future__ import annotations

import math
from typing import Optional, Tuple

import torch

# Names accepted for the model's ``custom_freqs`` parameter.
ROPE_MODES = (
    "normal",
    "linear",
    "ntk-aware",
    "ntk-aware-pro1",
    "ntk-aware-pro2",
    "ntk-by-parts",
    "yarn",
)

# Official sampler CLI ``--interpolation`` values -> ``custom_freqs``.
INTERPOLATION_TO_MODE = {
    "no": "normal",
    "linear": "linear",
    "dynntk": "ntk-aware",
    "ntkpro1": "ntk-aware-pro1",
    "ntkpro2": "ntk-aware-pro2",
    "partntk": "ntk-by-parts",
    "yarn": "yarn",
}
MODE_TO_INTERPOLATION = {v: k for k, v in INTERPOLATION_TO_MODE.items()}


def sampler_overrides(interp: str, decouple: bool, ori_max_pe_len, hw) -> dict:
    """The FiT constructor changes the official samplers make for one target grid ``hw`` (tokens)."""
    mode = INTERPOLATION_TO_MODE[interp]
    if mode == "normal":
        return dict(custom_freqs="normal", online_rope=False)
    return dict(custom_freqs=mode, max_pe_len_h=hw[0], max_pe_len_w=hw[1], decouple=decouple,
                ori_max_pe_len=ori_max_pe_len, online_rope=False)


# ----------------------------------------------------------------------------------------------
# scalar helpers
# ----------------------------------------------------------------------------------------------

def axis_scale(n: int, ori_max_pe_len: int) -> float:
    """s(n) = max(n / L, 1)."""
    return max(float(n) / float(ori_max_pe_len), 1.0)


def ntk_base(dim: int, theta: float, scale: float) -> float:
    """NTK-aware base change: theta * s^(dim / (dim - 2)), dim = per-axis dim."""
    return theta * scale ** (dim / (dim - 2))


def correction_factor(num_rotations: float, dim: int, theta: float, max_pos: int) -> float:
    """Index (in units of the per-axis dim) at which a frequency completes ``num_rotations``
    turns over ``max_pos`` positions: dim * ln(max_pos / (2 pi r)) / (2 ln theta)."""
    return dim * math.log(max_pos / (num_rotations * 2.0 * math.pi)) / (2.0 * math.log(theta))


def correction_range(r_low: float, r_high: float, dim: int, theta: float, max_pos: int) -> Tuple[int, int]:
    """(max(floor(f(r_low)), 0), min(ceil(f(r_high)), dim - 1))."""
    lo = math.floor(correction_factor(r_low, dim, theta, max_pos))
    hi = math.ceil(correction_factor(r_high, dim, theta, max_pos))
    return max(lo, 0), min(hi, dim - 1)


def ramp(lo: float, hi: float, n: int, dtype=torch.float64) -> torch.Tensor:
    """clip((j - lo) / (hi - lo), 0, 1) for j = 0..n-1; hi is nudged by 0.001 when lo == hi."""
    if lo == hi:
        hi = hi + 0.001
    j = torch.arange(n, dtype=dtype)
    return ((j - lo) / (hi - lo)).clamp(0.0, 1.0)


def proportion(l_test: float, l_train: float) -> float:
    """Attention-scale multiplier used by ntk-aware-pro1/pro2.

    Note the doubling of the test length (as in the official code):
    p = 1 if 2*l_test / l_train <= 1 else sqrt(ln(2*l_test) / ln(l_train)).
    """
    l2 = 2.0 * float(l_test)
    if l2 / float(l_train) <= 1.0:
        return 1.0
    return math.sqrt(math.log(l2) / math.log(float(l_train)))


def yarn_mscale(scale: float) -> float:
    """0.1 * ln(s) + 1 for s > 1, else 1."""
    return 1.0 if scale <= 1.0 else 0.1 * math.log(scale) + 1.0


# ----------------------------------------------------------------------------------------------
# frequencies
# ----------------------------------------------------------------------------------------------

def base_freqs(dim: int, theta: float = 10000.0, dtype=torch.float64) -> torch.Tensor:
    """theta^(-2j/dim), j = 0..dim/2-1."""
    exps = torch.arange(0, dim, 2, dtype=dtype) / dim
    return 1.0 / (float(theta) ** exps)


def axis_freqs(mode: str, dim: int, theta: float, n: int, ori_max_pe_len: int,
               dtype=torch.float64) -> torch.Tensor:
    """Frequencies of one axis of length ``n`` tokens for extrapolation ``mode``."""
    mode = mode.lower()
    base = base_freqs(dim, theta, dtype)
    if mode == "normal":
        return base
    s = axis_scale(n, ori_max_pe_len)
    exps = torch.arange(0, dim, 2, dtype=dtype) / dim
    linear = base / s
    ntk = 1.0 / (ntk_base(dim, theta, s) ** exps)
    half = dim // 2
    if mode == "linear":
        return linear
    if mode in ("ntk-aware", "ntk-aware-pro1", "ntk-aware-pro2"):
        return ntk
    if mode == "ntk-by-parts":
        lo, hi = correction_range(1.25, 0.75, dim, theta, ori_max_pe_len)
        keep_ntk = 1.0 - ramp(lo, hi, half, dtype)
        f = linear * (1.0 - keep_ntk) + ntk * keep_ntk
        lo, hi = correction_range(16.0, 2.0, dim, theta, ori_max_pe_len)
        keep_base = 1.0 - ramp(lo, hi, half, dtype)
        return f * (1.0 - keep_base) + base * keep_base
    if mode == "yarn":
        lo, hi = correction_range(32.0, 1.0, dim, theta, ori_max_pe_len)
        gamma = 1.0 - ramp(lo, hi, half, dtype)
        return linear * (1.0 - gamma) + base * gamma
    raise ValueError(f"unknown RoPE mode {mode!r}; expected one of {ROPE_MODES}")


def rope_multiplier(mode: str, h: int, w: int, ori_max_pe_len: Optional[int]) -> float:
    """Scalar that multiplies both cos and sin (attention logits scale by its square)."""
    mode = mode.lower()
    if mode == "yarn":
        return yarn_mscale(axis_scale(max(h, w), ori_max_pe_len))
    if mode == "ntk-aware-pro1":
        return proportion(max(h, w), ori_max_pe_len)
    if mode == "ntk-aware-pro2":
        return proportion(h * w, ori_max_pe_len ** 2)
    return 1.0


def rope_params(mode: str, head_dim: int, h: int, w: int, *, theta: float = 10000.0,
                decouple: bool = False, ori_max_pe_len: Optional[int] = 16,
                dtype=torch.float64) -> Tuple[torch.Tensor, torch.Tensor, float]:
    """(freqs_h, freqs_w, multiplier) for a model built for an h x w token grid."""
    dim = head_dim // 2
    assert dim % 2 == 0, "per-axis RoPE dim must be even"
    mode = mode.lower()
    if mode == "normal":
        f = base_freqs(dim, theta, dtype)
        return f, f.clone(), 1.0
    if ori_max_pe_len is None:
        raise ValueError("ori_max_pe_len is required for RoPE extrapolation modes")
    if decouple:
        fh = axis_freqs(mode, dim, theta, h, ori_max_pe_len, dtype)
        fw = axis_freqs(mode, dim, theta, w, ori_max_pe_len, dtype)
    else:
        m = max(h, w)
        fh = axis_freqs(mode, dim, theta, m, ori_max_pe_len, dtype)
        fw = fh.clone()
    return fh, fw, rope_multiplier(mode, h, w, ori_max_pe_len)


# ----------------------------------------------------------------------------------------------
# tables and rotation
# ----------------------------------------------------------------------------------------------

def cos_sin_from_grid(grid: torch.Tensor, freqs_h: torch.Tensor, freqs_w: torch.Tensor,
                      multiplier: float | torch.Tensor = 1.0) -> Tuple[torch.Tensor, torch.Tensor]:
    """cos/sin tables of shape (B, N, head_dim) for integer positions ``grid`` (B, 2, N).

    ``freqs_h``/``freqs_w`` may be (F,) or per-sample (B, F); ``multiplier`` a float or (B,).
    """
    dt = freqs_h.dtype
    col = grid[:, 0].to(dt)
    row = grid[:, 1].to(dt)
    fh = freqs_h if freqs_h.dim() == 2 else freqs_h[None]
    fw = freqs_w if freqs_w.dim() == 2 else freqs_w[None]
    ang_h = row[..., None] * fh[:, None, :]          # (B, N, F)
    ang_w = col[..., None] * fw[:, None, :]
    ang = torch.cat([ang_h.repeat_interleave(2, -1), ang_w.repeat_interleave(2, -1)], dim=-1)
    cos, sin = ang.cos(), ang.sin()
    if isinstance(multiplier, torch.Tensor):
        m = multiplier.to(dt).reshape(-1, 1, 1)
        cos, sin = cos * m, sin * m
    elif multiplier != 1.0:
        cos, sin = cos * multiplier, sin * multiplier
    return cos, sin


def rotate_pairs(x: torch.Tensor) -> torch.Tensor:
    """(x0, x1, x2, x3, ...) -> (-x1, x0, -x3, x2, ...)."""
    pairs = x.unflatten(-1, (-1, 2))
    a, b = pairs[..., 0], pairs[..., 1]
    return torch.stack((-b, a), dim=-1).flatten(-2)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    return x * cos + rotate_pairs(x) * sin


def row_major_grid(h: int, w: int, batch: int = 1, device=None) -> torch.Tensor:
    """(batch, 2, h*w) int64 grid; token n = row * w + col; [:,0] = col, [:,1] = row."""
    n = torch.arange(h * w, device=device)
    g = torch.stack([n % w, n // w], dim=0)
    return g[None].expand(batch, 2, h * w).clone()
