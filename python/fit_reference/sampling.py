"""Reference samplers for FiT (v1, DDPM) and FiTv2 (rectified flow), CPU PyTorch.

Written for this project from the behaviour of the official samplers (whlzy/FiT @ b22b7b0:
``sample_fit_ddp.py``, ``sample_fitv2_ddp.py``, ``fit/scheduler/improved_diffusion``,
``fit/scheduler/transport`` and ``FiT.forward_with_cfg``); see docs/model.md §4.
No official code is reused; the numerics follow it step by step so that a float32 run here is
what the official pipeline computes (on CPU).

Everything works on image-layout tensors (B, C, H, W) (H, W in latent / pixel cells). Only the
random draws are made in the official TOKEN layout and then mapped to image layout, because the
order of the draws is the contract with the Swift ``NoiseSource``:

* token layout v2 (``use_sit``):  (n, N, p*p*C), element [b, r*w + c, ch*p*p + p1*p + p2]
* token layout v1:                (n, p*p*C, N), element [b, ch*p*p + p1*p + p2, r*w + c]
  both map to image element [b, ch, r*p + p1, c*p + p2]  (r, c = token row / column).

The random stream is ``torch.Generator().manual_seed(seed)`` on CPU (identical to
``torch.manual_seed(seed)`` + ``torch.randn``), float32 draws.

Batch convention: with guidance (cfg > 1) the official samplers integrate a doubled batch of
S = 2B states [cond | uncond]; the uncond half only matters for (a) the size of the per-step
noise draws (drawn for all 2B rows) and (b) the dopri5 error norm (RMS over all 2B rows). It
never influences the first (conditional) half, which is the returned sample. Without guidance
(cfg == 1.0, ``using_cfg = cfg > 1.0``) S = B and the plain forward is used.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import List, Optional, Sequence

import numpy as np
import torch

from .model import FiT, forward_image, tokens_to_image

SDE_LAST_STEP_SIZE = 0.04          # official default --last-step-size (last step "Mean")
DOPRI5_ATOL = 1e-6
DOPRI5_RTOL = 1e-3

# ----------------------------------------------------------------------------------------------
# checkpoints
# ----------------------------------------------------------------------------------------------


def load_fit_checkpoint(path, dtype=torch.float32, **overrides) -> FiT:
    """FiT from a safetensors file with ``fit_config`` metadata, cast to ``dtype``, eval mode.
    A VAE the file carries (``vae.*``, see ``vae.load_carried_vae``) is not part of the FiT."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    with safe_open(str(path), framework="pt") as f:
        cfg = json.loads(f.metadata()["fit_config"])
    cfg.update(overrides)
    model = FiT(**cfg).to(dtype)
    sd = {k: v.to(dtype) for k, v in load_file(str(path)).items() if not k.startswith("vae.")}
    model.load_state_dict(sd, strict=True)
    return model.eval()


# ----------------------------------------------------------------------------------------------
# noise
# ----------------------------------------------------------------------------------------------


def token_noise_shape(model: FiT, n: int, h: int, w: int) -> tuple:
    """Shape of one official draw for ``n`` rows on an h x w token grid."""
    f = model.patch_size ** 2 * model.in_channels
    return (n, h * w, f) if model.use_sit else (n, f, h * w)


def token_noise_to_image(z: torch.Tensor, model: FiT, h: int, w: int) -> torch.Tensor:
    """Map a draw in the official token layout to (n, C, h*p, w*p)."""
    if not model.use_sit:
        z = z.transpose(1, 2)
    return tokens_to_image(z, h, w, model.patch_size)


class NoiseStream:
    """The official CPU random stream: float32 ``randn`` draws in token layout."""

    def __init__(self, seed: int):
        self.gen = torch.Generator(device="cpu").manual_seed(int(seed))
        self.calls: List[tuple] = []

    def draw(self, model: FiT, n: int, h: int, w: int) -> torch.Tensor:
        shape = token_noise_shape(model, n, h, w)
        self.calls.append(shape)
        z = torch.randn(shape, generator=self.gen, dtype=torch.float32)
        return token_noise_to_image(z, model, h, w)


# ----------------------------------------------------------------------------------------------
# classifier-free guidance (official forward_with_cfg)
# ----------------------------------------------------------------------------------------------


def cfg_scale_at(t: torch.Tensor, cfg_scale: float, scale_pow: float) -> torch.Tensor:
    """Power-cosine guidance scale for flow time ``t`` (the raw t given to the model).

    s_eff = (s - 1) * (1 - cos(((1 - min(t, 1)) ** pow) * pi)) / 2 + 1; pow == 0 -> constant s.
    """
    if scale_pow == 0.0:
        return torch.full_like(t, cfg_scale)
    step = (1 - torch.cos(((1 - torch.clamp_max(t, 1.0)) ** scale_pow) * torch.pi)) * 1 / 2
    return (cfg_scale - 1) * step + 1


class GuidedModel:
    """Model function of the official samplers, on image-layout states.

    With guidance the state has S = 2B rows; one forward of 2B rows on [x[:B], x[:B]] with labels
    [y, null]; the first ``guided_channels`` output channels of BOTH halves become
    uncond + s * (cond - uncond); the remaining channels stay per half (the first half keeps the
    conditional values). ``scale_pow`` uses the t passed to the model (first B entries).
    """

    def __init__(self, model: FiT, classes: Sequence[int], cfg_scale: float = 1.0,
                 scale_pow: float = 0.0, guided_channels: int = 3):
        self.model = model
        self.batch = len(classes)
        self.cfg_scale = float(cfg_scale)
        self.scale_pow = float(scale_pow)
        self.using_cfg = self.cfg_scale > 1.0
        self.guided_channels = min(int(guided_channels), model.in_channels)
        y = torch.as_tensor(list(classes), dtype=torch.long)
        if self.using_cfg:
            y = torch.cat([y, torch.full_like(y, model.num_classes)])   # null label = num_classes
        self.y = y
        self.nfe = 0

    @property
    def rows(self) -> int:
        return 2 * self.batch if self.using_cfg else self.batch

    @torch.no_grad()
    def __call__(self, x: torch.Tensor, t: torch.Tensor, count: bool = True) -> torch.Tensor:
        if count:
            self.nfe += 1
        if not self.using_cfg:
            return forward_image(self.model, x, t, self.y)
        B, g = self.batch, self.guided_channels
        half = x[:B]
        out = forward_image(self.model, torch.cat([half, half]), t, self.y)
        cond, uncond = out[:B, :g], out[B:, :g]
        if self.scale_pow == 0.0:
            s = self.cfg_scale
        else:
            s = cfg_scale_at(t, self.cfg_scale, self.scale_pow)[:B].view(-1, 1, 1, 1)
        guided = uncond + s * (cond - uncond)
        return torch.cat([torch.cat([guided, guided]), out[:, g:]], dim=1)


# ----------------------------------------------------------------------------------------------
# DDPM schedule (improved-diffusion / DiT recipe)
# ----------------------------------------------------------------------------------------------


def linear_betas(num_timesteps: int = 1000) -> np.ndarray:
    """Linear schedule 1e-4 .. 0.02 (scaled by 1000 / T), float64."""
    scale = 1000.0 / num_timesteps
    return np.linspace(scale * 1e-4, scale * 0.02, num_timesteps, dtype=np.float64)


def space_timesteps(num_timesteps: int, section_counts) -> set:
    """Original timesteps kept when respacing (``"250"``, ``"10,20"`` or ``"ddimN"``).

    Each section of the original steps is sampled at a fractional stride (size-1)/(count-1)
    accumulated by repeated addition in float64 and rounded with Python's round(), i.e. ties go
    to the EVEN integer (e.g. "7" -> {0, 166, 333, 500, 666, 832, 999}).
    """
    if isinstance(section_counts, str):
        if section_counts.startswith("ddim"):
            want = int(section_counts[len("ddim"):])
            for stride in range(1, num_timesteps):
                kept = range(0, num_timesteps, stride)
                if len(kept) == want:
                    return set(kept)
            raise ValueError(f"no integer stride gives {want} of {num_timesteps} steps")
        counts = [int(s) for s in section_counts.split(",")]
    else:
        counts = [int(s) for s in section_counts]
    base, extra = divmod(num_timesteps, len(counts))
    kept, start = [], 0
    for idx, count in enumerate(counts):
        size = base + (1 if idx < extra else 0)
        if size < count:
            raise ValueError(f"cannot take {count} steps from a section of {size}")
        stride = 1 if count <= 1 else (size - 1) / (count - 1)
        pos = 0.0
        for _ in range(count):
            kept.append(start + round(pos))
            pos += stride
        start += size
    return set(kept)


class DDPMSchedule:
    """Respaced Gaussian diffusion quantities (float64 numpy, index = respaced step i)."""

    def __init__(self, num_sampling_steps: int, num_timesteps: int = 1000, respacing=None):
        base_betas = linear_betas(num_timesteps)
        base_ac = np.cumprod(1.0 - base_betas)
        keep = space_timesteps(num_timesteps, respacing if respacing is not None
                               else str(num_sampling_steps))
        self.timestep_map = [i for i in range(num_timesteps) if i in keep]
        betas, last = [], 1.0
        for i in self.timestep_map:
            betas.append(1.0 - base_ac[i] / last)
            last = base_ac[i]
        b = np.array(betas, dtype=np.float64)
        a = 1.0 - b
        ac = np.cumprod(a)
        ac_prev = np.append(1.0, ac[:-1])
        self.num_steps = len(b)
        self.betas = b
        self.alphas_cumprod = ac
        self.alphas_cumprod_prev = ac_prev
        self.sqrt_recip_alphas_cumprod = np.sqrt(1.0 / ac)
        self.sqrt_recipm1_alphas_cumprod = np.sqrt(1.0 / ac - 1.0)
        self.posterior_variance = b * (1.0 - ac_prev) / (1.0 - ac)
        self.posterior_log_variance_clipped = np.log(
            np.append(self.posterior_variance[1], self.posterior_variance[1:]))
        self.log_betas = np.log(b)
        self.posterior_mean_coef1 = b * np.sqrt(ac_prev) / (1.0 - ac)
        self.posterior_mean_coef2 = (1.0 - ac_prev) * np.sqrt(a) / (1.0 - ac)

    def coef(self, name: str, i: int, dtype) -> torch.Tensor:
        """One schedule value as a 0-dim tensor; for float32 rounded like the official .float()."""
        return torch.tensor(float(getattr(self, name)[i]), dtype=torch.float64).to(dtype)


# ----------------------------------------------------------------------------------------------
# trajectory record
# ----------------------------------------------------------------------------------------------


@dataclass
class Trajectory:
    sampler: str
    times: List[float]                 # t of every step (DDPM/DDIM: original integer timestep)
    x_T: torch.Tensor                  # initial noise, image layout (B, C, H, W)
    xs: List[torch.Tensor]             # state at the start of step k (conditional half)
    x0s: List[torch.Tensor]            # clean estimate at step k
    sample: torch.Tensor               # final sample (B, C, H, W)
    noises: List[torch.Tensor] = field(default_factory=list)  # per-step noise (cond half)
    nfe: int = 0                       # guided-model evaluations (one forward of S rows each)
    accepted: Optional[int] = None     # dopri5
    rejected: Optional[int] = None     # dopri5
    step_sizes: List[float] = field(default_factory=list)     # dopri5 accepted dt
    error_ratios: List[float] = field(default_factory=list)   # dopri5, every attempt
    draws: List[tuple] = field(default_factory=list)          # shapes of the randn calls, in order


def _rows(x: torch.Tensor, B: int) -> torch.Tensor:
    return x[:B].clone()


# ----------------------------------------------------------------------------------------------
# the samplers
# ----------------------------------------------------------------------------------------------

FLOW_SAMPLERS = ("euler", "heun", "dopri5", "sde")
DDPM_SAMPLERS = ("ddpm", "ddim")


@torch.no_grad()
def sample(model: FiT, sampler: str, *, classes: Sequence[int], h: int, w: int, seed: int,
           steps: int = 0, cfg_scale: float = 1.0, scale_pow: float = 0.0,
           guided_channels: int = 3, dtype=None) -> Trajectory:
    """Run one official-style sampling loop on an h x w token grid.

    ``dtype`` is the compute dtype (default: the model's). The noise is always drawn in float32
    and then cast. ``steps``: DDPM/DDIM respaced step count; Euler/Heun integration steps on
    linspace(0, 1, steps+1); SDE num_steps (steps-1 Euler-Maruyama steps + 1 last step);
    dopri5 ignores it.
    """
    sampler = sampler.lower()
    dtype = dtype or model.x_embedder.proj.weight.dtype
    B = len(classes)
    gm = GuidedModel(model, classes, cfg_scale, scale_pow, guided_channels)
    S = gm.rows
    noise = NoiseStream(seed)
    x_T = noise.draw(model, B, h, w).to(dtype)            # drawn once for B rows
    x = torch.cat([x_T, x_T]) if gm.using_cfg else x_T.clone()

    if sampler in DDPM_SAMPLERS:
        if model.use_sit:
            raise ValueError("DDPM/DDIM need a v1 (learn_sigma, non-SiT) model")
        traj = _ddpm_loop(gm, noise, x, sampler, steps, h, w, dtype)
    elif sampler in FLOW_SAMPLERS:
        if not model.use_sit:
            raise ValueError("flow samplers need a v2 (use_sit) model")
        if sampler == "euler":
            traj = _euler(gm, x, steps, dtype)
        elif sampler == "heun":
            traj = _heun(gm, x, steps, dtype)
        elif sampler == "sde":
            traj = _sde(gm, noise, x, steps, h, w, dtype)
        else:
            traj = _dopri5(gm, x, dtype)
    else:
        raise ValueError(f"unknown sampler {sampler!r}")
    traj.x_T = x_T
    traj.nfe = gm.nfe
    traj.draws = list(noise.calls)
    return traj


def _ddpm_loop(gm, noise, x, sampler, steps, h, w, dtype) -> Trajectory:
    model, B, S = gm.model, gm.batch, gm.rows
    C = model.in_channels
    sch = DDPMSchedule(steps)
    xs, x0s, noises, times = [], [], [], []
    for i in reversed(range(sch.num_steps)):
        ts = sch.timestep_map[i]
        c = lambda name: sch.coef(name, i, dtype)  # noqa: E731
        out = gm(x, torch.full((S,), float(ts), dtype=dtype))
        eps, var_values = out[:, :C], out[:, C:]
        x0 = c("sqrt_recip_alphas_cumprod") * x - c("sqrt_recipm1_alphas_cumprod") * eps
        times.append(ts)
        xs.append(_rows(x, B))
        x0s.append(_rows(x0, B))
        nonzero = 1.0 if i != 0 else 0.0
        if sampler == "ddpm":
            min_log = c("posterior_log_variance_clipped")
            max_log = c("log_betas")
            frac = (var_values + 1) / 2
            log_var = frac * max_log + (1 - frac) * min_log
            mean = c("posterior_mean_coef1") * x0 + c("posterior_mean_coef2") * x
            z = noise.draw(model, S, h, w).to(dtype)      # after the model call, every step
            x = mean + nonzero * torch.exp(0.5 * log_var) * z
        else:  # DDIM, eta = 0 (noise drawn like the official code, multiplied by sigma = 0)
            eps_re = (c("sqrt_recip_alphas_cumprod") * x - x0) / c("sqrt_recipm1_alphas_cumprod")
            ab = c("alphas_cumprod")
            ab_prev = c("alphas_cumprod_prev")
            sigma = 0.0 * torch.sqrt((1 - ab_prev) / (1 - ab)) * torch.sqrt(1 - ab / ab_prev)
            z = noise.draw(model, S, h, w).to(dtype)
            mean = x0 * torch.sqrt(ab_prev) + torch.sqrt(1 - ab_prev - sigma ** 2) * eps_re
            x = mean + nonzero * sigma * z
        noises.append(_rows(z, B))
    return Trajectory(sampler, times, None, xs, x0s, _rows(x, B), noises)


def _flow_x0(x, t, v):
    return x + (1 - t) * v


def _euler(gm, x, steps, dtype) -> Trajectory:
    B, S = gm.batch, gm.rows
    grid = torch.linspace(0.0, 1.0, steps + 1, dtype=dtype)
    xs, x0s, times = [], [], []
    for k in range(steps):
        t = grid[k]
        v = gm(x, torch.ones(S, dtype=dtype) * t)
        times.append(float(t))
        xs.append(_rows(x, B))
        x0s.append(_rows(_flow_x0(x, t, v), B))
        x = x + (grid[k + 1] - grid[k]) * v
    return Trajectory("euler", times, None, xs, x0s, _rows(x, B))


def _heun(gm, x, steps, dtype) -> Trajectory:
    B, S = gm.batch, gm.rows
    grid = torch.linspace(0.0, 1.0, steps + 1, dtype=dtype)
    xs, x0s, times = [], [], []
    for k in range(steps):
        t0, t1 = grid[k], grid[k + 1]
        dt = t1 - t0
        v1 = gm(x, torch.ones(S, dtype=dtype) * t0)
        times.append(float(t0))
        xs.append(_rows(x, B))
        x0s.append(_rows(_flow_x0(x, t0, v1), B))
        x_pred = x + dt * v1
        v2 = gm(x_pred, torch.ones(S, dtype=dtype) * t1)
        x = x + dt / 2 * (v1 + v2)
    return Trajectory("heun", times, None, xs, x0s, _rows(x, B))


def _sde_drift(v, x, t):
    """Drift v + w(t) * score with w(t) = 1 - t ("sigma" form, norm 1) and the linear-path score."""
    t = t.view(-1, 1, 1, 1)
    diffusion = 1.0 * (1 - t)
    alpha_t, d_alpha_t = t, 1
    sigma_t, d_sigma_t = 1 - t, -1
    ratio = alpha_t / d_alpha_t
    var = sigma_t ** 2 - ratio * d_sigma_t * sigma_t
    score = (ratio * v - x) / var
    return v + diffusion * score, diffusion


def _sde(gm, noise, x, steps, h, w, dtype) -> Trajectory:
    """Euler-Maruyama on linspace(0, 0.96, steps) (steps-1 steps) + the last "Mean" step of 0.04."""
    model, B, S = gm.model, gm.batch, gm.rows
    t_end = 1 - SDE_LAST_STEP_SIZE
    grid = torch.linspace(0.0, t_end, steps, dtype=dtype)
    dt = grid[1] - grid[0]
    xs, x0s, noises, times = [], [], [], []
    for k in range(steps - 1):
        z = noise.draw(model, S, h, w).to(dtype)          # first, before the model call
        t = torch.ones(S, dtype=dtype) * grid[k]
        dw = z * torch.sqrt(dt)
        v = gm(x, t)              # the official code evaluates the model twice here (drift, score)
        drift, diffusion = _sde_drift(v, x, t)
        times.append(float(grid[k]))
        xs.append(_rows(x, B))
        x0s.append(_rows(_flow_x0(x, t.view(-1, 1, 1, 1), v), B))
        noises.append(_rows(z, B))
        mean_x = x + drift * dt
        x = mean_x + torch.sqrt(2 * diffusion) * dw
    t = torch.ones(S, dtype=dtype) * t_end
    v = gm(x, t)
    drift, _ = _sde_drift(v, x, t)
    times.append(float(t[0]))
    xs.append(_rows(x, B))
    x0s.append(_rows(_flow_x0(x, t.view(-1, 1, 1, 1), v), B))
    x = x + drift * SDE_LAST_STEP_SIZE
    return Trajectory("sde", times, None, xs, x0s, _rows(x, B), noises)


class _Dopri5Func:
    """ODE right-hand side for torchdiffeq with step callbacks."""

    def __init__(self, gm: GuidedModel):
        self.gm = gm
        self.attempts = 0
        self.accepted: List[tuple] = []

    def __call__(self, t, x):
        return self.gm(x, torch.ones(x.shape[0], dtype=x.dtype) * t)

    def callback_step(self, t0, y0, dt):
        self.attempts += 1

    def callback_accept_step(self, t0, y0, dt):
        self.accepted.append((float(t0), float(dt), y0.clone()))


def _dopri5(gm, x, dtype) -> Trajectory:
    from torchdiffeq import odeint
    from torchdiffeq._impl import rk_common

    B = gm.batch
    f = _Dopri5Func(gm)
    t_span = torch.tensor([0.0, 1.0], dtype=torch.float32)
    # record the error ratio of every attempt (diagnostic only; the solver is unchanged)
    ratios: List[float] = []
    original = rk_common._compute_error_ratio

    def recording_ratio(*args, **kwargs):
        r = original(*args, **kwargs)
        ratios.append(float(r))
        return r

    rk_common._compute_error_ratio = recording_ratio
    try:
        sol = odeint(f, x, t_span, method="dopri5", atol=[DOPRI5_ATOL], rtol=[DOPRI5_RTOL])
    finally:
        rk_common._compute_error_ratio = original
    xs, x0s, times, dts = [], [], [], []
    for t0, dt, y0 in f.accepted:
        tt = torch.ones(y0.shape[0], dtype=dtype) * t0
        v = gm(y0, tt, count=False)
        times.append(t0)
        dts.append(dt)
        xs.append(_rows(y0, B))
        x0s.append(_rows(_flow_x0(y0, tt.view(-1, 1, 1, 1), v), B))
    traj = Trajectory("dopri5", times, None, xs, x0s, _rows(sol[-1], B))
    traj.accepted = len(f.accepted)
    traj.rejected = f.attempts - len(f.accepted)
    traj.step_sizes = dts
    traj.error_ratios = ratios
    return traj


def relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    """max |a - b| / max |b| (the project's convention)."""
    a, b = a.double(), b.double()
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-30))
