"""Tests of the reference samplers and the sampling fixtures.

Run from the repository root:  .venv/bin/python -m pytest python/tests -q
"""

from __future__ import annotations

import json
import math
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

PY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PY))

import make_sampling_fixtures as msf  # noqa: E402
from fit_reference import image_to_tokens, tokens_to_image  # noqa: E402
from fit_reference import rope as R  # noqa: E402
from fit_reference import sampling as S  # noqa: E402

FIX = msf.DEFAULT_OUT
FORWARD = msf.FIXTURES / "forward"


def manifest():
    with open(FIX / "manifest.json") as f:
        return json.load(f)


def cases():
    return [e for e in manifest() if e["sampler"] != "randn"]


# ----------------------------------------------------------------------------------------------
# DDPM schedule
# ----------------------------------------------------------------------------------------------

def test_respacing_250_is_the_official_set():
    got = S.space_timesteps(1000, "250")
    # one section of 1000 steps, stride 999/249 = 333/83; no ties, so exact rational rounding
    expect = {round(Fraction(333 * i, 83)) for i in range(250)}
    assert got == expect
    assert len(got) == 250 and min(got) == 0 and max(got) == 999
    s = sorted(got)
    assert s[:6] == [0, 4, 8, 12, 16, 20] and s[-5:] == [983, 987, 991, 995, 999]
    assert s[41:44] == [164, 169, 173]   # the stride 4.012 starts rounding up at i = 42


def test_respacing_rounds_ties_to_even_and_other_forms():
    # stride 999/6 = 166.5: ties at 166.5, 499.5, 832.5 go to the even neighbour
    assert S.space_timesteps(1000, "7") == {0, 166, 333, 500, 666, 832, 999}
    assert S.space_timesteps(1000, "10") == set(range(0, 1000, 111))
    assert S.space_timesteps(1000, "ddim50") == set(range(0, 1000, 20))
    two = S.space_timesteps(1000, "2,3")
    assert two == {0, 499, 500, 750, 999}      # 500 + round(249.5) = 500 + 250
    assert S.space_timesteps(1000, "1000") == set(range(1000))


def test_ddpm_schedule_against_direct_formulas():
    base_b = np.linspace(1e-4, 0.02, 1000, dtype=np.float64)
    base_ac = np.cumprod(1 - base_b)
    sch = S.DDPMSchedule(250)
    assert sch.timestep_map == sorted(S.space_timesteps(1000, "250"))
    # respaced cumulative products hit the original ones at the kept timesteps
    np.testing.assert_allclose(sch.alphas_cumprod, base_ac[sch.timestep_map], rtol=1e-12)
    # posterior q(x_{t-1} | x_t, x0) by multiplying the two Gaussians directly
    for i in (1, 5, 100, 249):
        ab, abp, b = sch.alphas_cumprod[i], sch.alphas_cumprod_prev[i], sch.betas[i]
        a = 1 - b
        prec = 1 / (1 - abp) + a / b
        var = 1 / prec
        w_x0 = var * math.sqrt(abp) / (1 - abp)
        w_xt = var * math.sqrt(a) / b
        assert math.isclose(sch.posterior_variance[i], var, rel_tol=1e-10)
        assert math.isclose(sch.posterior_mean_coef1[i], w_x0, rel_tol=1e-10)
        assert math.isclose(sch.posterior_mean_coef2[i], w_xt, rel_tol=1e-10)
        assert math.isclose(sch.log_betas[i], math.log(b), rel_tol=1e-12)
        # x0 from eps inverts q_sample: x_t = sqrt(ab) x0 + sqrt(1 - ab) eps
        x0, eps = 0.3, -1.7
        xt = math.sqrt(ab) * x0 + math.sqrt(1 - ab) * eps
        rec = sch.sqrt_recip_alphas_cumprod[i] * xt - sch.sqrt_recipm1_alphas_cumprod[i] * eps
        assert math.isclose(rec, x0, rel_tol=1e-9, abs_tol=1e-9)
    # the clipped log variance repeats entry 1 at index 0
    assert sch.posterior_log_variance_clipped[0] == math.log(sch.posterior_variance[1])
    np.testing.assert_allclose(sch.posterior_log_variance_clipped[1:], np.log(sch.posterior_variance[1:]))
    assert sch.alphas_cumprod_prev[0] == 1.0
    assert sch.posterior_variance[0] == 0.0


# ----------------------------------------------------------------------------------------------
# integrators on ODEs with known solutions
# ----------------------------------------------------------------------------------------------

class FakeModel:
    """Duck-typed GuidedModel: velocity f(x, t) on a (1, 1, 1, 1) state."""

    def __init__(self, f):
        self.f = f
        self.batch = 1
        self.rows = 1
        self.nfe = 0

    def __call__(self, x, t, count=True):
        if count:
            self.nfe += 1
        return self.f(x, t.view(-1, 1, 1, 1))


@pytest.mark.parametrize("n", [1, 4, 16, 64])
def test_euler_and_heun_on_linear_ode(n):
    lam = -0.7
    x0 = torch.full((1, 1, 1, 1), 1.3, dtype=torch.float64)
    fm = FakeModel(lambda x, t: lam * x)
    e = S._euler(fm, x0.clone(), n, torch.float64).sample.item()
    hn = S._heun(fm, x0.clone(), n, torch.float64).sample.item()
    h = 1.0 / n
    assert math.isclose(e, 1.3 * (1 + lam * h) ** n, rel_tol=1e-12)
    assert math.isclose(hn, 1.3 * (1 + lam * h + (lam * h) ** 2 / 2) ** n, rel_tol=1e-12)
    exact = 1.3 * math.exp(lam)
    assert abs(hn - exact) <= abs(e - exact) + 1e-15
    if n == 64:
        assert abs(e - exact) < 5e-3 and abs(hn - exact) < 1e-4
    assert fm.nfe == n + 2 * n


def test_euler_uses_left_times_and_heun_both_ends():
    # dx/dt = 2t: exact x(1) - x(0) = 1; Euler (left sums) gives (n-1)/n, Heun (trapezoid) is exact
    fm = FakeModel(lambda x, t: 2 * t + 0 * x)
    x0 = torch.zeros((1, 1, 1, 1), dtype=torch.float64)
    tr = S._euler(fm, x0.clone(), 8, torch.float64)
    assert math.isclose(tr.sample.item(), 7 / 8, rel_tol=1e-12)
    assert tr.times == [k / 8 for k in range(8)]
    assert math.isclose(S._heun(fm, x0.clone(), 5, torch.float64).sample.item(), 1.0, rel_tol=1e-12)


def test_dopri5_counts_and_accuracy_on_linear_ode():
    fm = FakeModel(lambda x, t: -2.0 * x + torch.cos(3 * t))
    x0 = torch.full((1, 1, 1, 1), 0.5, dtype=torch.float64)
    tr = S._dopri5(fm, x0, torch.float64)
    # x' = -2x + cos 3t: x(t) = (2 cos 3t + 3 sin 3t)/13 + (x0 - 2/13) e^{-2t}
    exact = (2 * math.cos(3) + 3 * math.sin(3)) / 13 + (0.5 - 2 / 13) * math.exp(-2)
    assert abs(tr.sample.item() - exact) < 1e-4
    attempts = tr.accepted + tr.rejected
    assert fm.nfe == 2 + 6 * attempts       # f(t0), initial-step probe, 6 new stages per attempt
    assert len(tr.error_ratios) == attempts
    assert tr.times[0] == 0.0 and sum(tr.step_sizes) >= 1.0


def test_sde_drift_simplifies_to_linear_path_identity():
    torch.manual_seed(0)
    x, v = torch.randn(2, 3, 4, 4, dtype=torch.float64), torch.randn(2, 3, 4, 4, dtype=torch.float64)
    t = torch.tensor([0.0, 0.37], dtype=torch.float64)
    drift, diffusion = S._sde_drift(v, x, t)
    tt = t.view(-1, 1, 1, 1)
    torch.testing.assert_close(drift, v + tt * v - x)      # v + (1-t) * (t v - x)/(1-t)
    torch.testing.assert_close(diffusion, 1 - tt)


def test_cfg_scale_schedule():
    t = torch.tensor([0.0, 0.25, 0.5, 1.0, 1.2])
    torch.testing.assert_close(S.cfg_scale_at(t, 4.0, 0.0), torch.full_like(t, 4.0))
    s = S.cfg_scale_at(t, 4.0, 1.0)
    expect = [(4 - 1) * (1 - math.cos((1 - min(v, 1.0)) * math.pi)) / 2 + 1 for v in t.tolist()]
    torch.testing.assert_close(s, torch.tensor(expect))
    assert s[0] == 4.0 and s[3] == 1.0 and s[4] == 1.0
    s2 = S.cfg_scale_at(t, 4.0, 2.0)
    assert math.isclose(s2[1].item(), 3 * (1 - math.cos(0.75 ** 2 * math.pi)) / 2 + 1, rel_tol=1e-6)


# ----------------------------------------------------------------------------------------------
# guidance and noise layout
# ----------------------------------------------------------------------------------------------

def _token_forward_with_cfg(model, x_tok, t, y, h, w, cfg, scale_pow):
    """forward_with_cfg restated in token layout (the layout the official samplers use)."""
    n = x_tok.shape[0]
    grid = R.row_major_grid(h, w, n)
    half = x_tok[: n // 2]
    out = model(torch.cat([half, half]), t, y, grid, None, pe_hw=(h, w))
    g = 3 * model.patch_size ** 2
    eps, rest = (out[..., :g], out[..., g:]) if model.use_sit else (out[:, :g], out[:, g:])
    cond, uncond = eps.chunk(2)
    s = S.cfg_scale_at(t, cfg, scale_pow)[: n // 2].view(-1, 1, 1) if scale_pow else cfg
    guided = uncond + s * (cond - uncond)
    return torch.cat([torch.cat([guided, guided]), rest], dim=2 if model.use_sit else 1)


@pytest.mark.parametrize("ckpt,scale_pow", [("v1-tiny", 0.0), ("v2-tiny", 1.0), ("pixel-tiny", 0.0)])
def test_guided_model_matches_token_layout_cfg(ckpt, scale_pow):
    model = S.load_fit_checkpoint(FORWARD / f"{ckpt}.safetensors", dtype=torch.float64)
    h, w, p, C = 4, 6, model.patch_size, model.in_channels
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(4, C, h * p, w * p, generator=gen, dtype=torch.float64)   # halves differ
    t = torch.full((4,), 0.3 if model.use_sit else 500.0, dtype=torch.float64)
    gm = S.GuidedModel(model, [1, 2], cfg_scale=2.5, scale_pow=scale_pow)
    got = gm(x, t)
    tok = image_to_tokens(x, p)
    if not model.use_sit:
        tok = tok.transpose(1, 2)
    y = torch.tensor([1, 2, model.num_classes, model.num_classes])
    ref = _token_forward_with_cfg(model, tok, t, y, h, w, 2.5, scale_pow)
    if not model.use_sit:
        ref = ref.transpose(1, 2)
    ref = tokens_to_image(ref, h, w, p)
    torch.testing.assert_close(got, ref, rtol=1e-12, atol=1e-12)
    # the first half's unguided channels are the conditional ones; guided ones equal in both halves
    g = min(3, C)
    torch.testing.assert_close(got[:2, :g], got[2:, :g])


def test_noise_stream_is_torch_manual_seed_randn_in_token_layout():
    v1 = S.load_fit_checkpoint(FORWARD / "v1-tiny.safetensors")
    v2 = S.load_fit_checkpoint(FORWARD / "v2-tiny.safetensors")
    h, w = 3, 5
    for model in (v1, v2):
        ns = S.NoiseStream(42)
        a, b = ns.draw(model, 2, h, w), ns.draw(model, 4, h, w)
        torch.manual_seed(42)
        ra, rb = torch.randn(S.token_noise_shape(model, 2, h, w)), torch.randn(S.token_noise_shape(model, 4, h, w))
        for img, tok in ((a, ra), (b, rb)):
            back = image_to_tokens(img, model.patch_size)
            if not model.use_sit:
                back = back.transpose(1, 2)
            assert torch.equal(back, tok)
    assert S.token_noise_shape(v1, 2, h, w) == (2, 16, 15)
    assert S.token_noise_shape(v2, 2, h, w) == (2, 15, 16)


def test_trajectory_shapes_and_draw_order():
    model = S.load_fit_checkpoint(FORWARD / "v2-tiny.safetensors")
    tr = S.sample(model, "sde", classes=[1, 2], h=4, w=4, seed=3, steps=5, cfg_scale=2.0)
    assert tr.draws == [(2, 16, 16)] + [(4, 16, 16)] * 4
    assert len(tr.times) == 5 and len(tr.xs) == 5 and len(tr.noises) == 4
    assert math.isclose(tr.times[-1], 0.96, rel_tol=1e-6)
    assert tr.sample.shape == (2, 4, 8, 8) and tr.x_T.shape == (2, 4, 8, 8)
    tr = S.sample(model, "euler", classes=[1], h=4, w=4, seed=3, steps=3, cfg_scale=1.0)
    assert tr.draws == [(1, 16, 16)] and tr.nfe == 3
    v1 = S.load_fit_checkpoint(FORWARD / "v1-tiny.safetensors")
    tr = S.sample(v1, "ddpm", classes=[1], h=4, w=4, seed=3, steps=4, cfg_scale=1.5)
    assert tr.draws == [(1, 16, 16)] + [(2, 16, 16)] * 4
    assert tr.times == [999, 666, 333, 0]


# ----------------------------------------------------------------------------------------------
# fixtures
# ----------------------------------------------------------------------------------------------

def test_noise_fixtures_regenerate_exactly():
    stored = load_file(str(FIX / "noise.safetensors"))
    fresh, entries = msf.noise_tensors()
    assert set(stored) == set(fresh)
    for k in fresh:
        assert stored[k].dtype == torch.float32
        assert torch.equal(stored[k], fresh[k]), k
    # torch seeds the CPU mt19937 with the low 32 bits only
    torch.manual_seed(7)
    assert torch.equal(stored[f"seed{2 ** 40 + 7}.n100"], torch.randn(100))
    listed = {e["key"] for e in manifest() if e["sampler"] == "randn"}
    assert listed == set(stored)


def test_manifest_fields_and_size():
    required = {"case", "checkpoint", "sampler", "steps", "cfg", "scale_pow", "guided_channels",
                "seed", "class", "batch", "height", "width", "interpolation", "decouple",
                "ori_max_pe_len", "recorded_steps", "times", "noise_layout", "file",
                "rel_err_fp32_vs_fp64"}
    cs = cases()
    assert {e["sampler"] for e in cs} == {"ddpm", "ddim", "euler", "heun", "dopri5", "sde"}
    for e in cs:
        assert required <= set(e), e["case"]
        assert (msf.FIXTURES / e["checkpoint"]).exists()
        assert len(e["times"]) == e["steps"]
        assert e["rel_err_fp32_vs_fp64"] < 1e-3
        t = load_file(str(FIX / e["file"]))
        for k in e["recorded_steps"]:
            assert f"x_t.{k}" in t and f"x0.{k}" in t
        B = e["batch"]
        assert t["sample"].shape == (B, e["channels"], e["height"], e["width"])
        if e["sampler"] == "dopri5":
            assert int(t["accepted"][0]) == e["accepted"] == e["accepted_fp64"]
            assert int(t["nfe"][0]) == e["nfe"] == 2 + 6 * (e["accepted"] + e["rejected"])
    assert any(e["cfg"] == 1.0 for e in cs) and any(e["scale_pow"] > 0 for e in cs)
    assert any(e["grid_h"] != e["grid_w"] for e in cs)
    assert any(e["interpolation"] == "ntkpro2" and e["decouple"] for e in cs)
    total = sum(f.stat().st_size for f in FIX.iterdir())
    assert total < 1.5 * 1024 * 1024


@pytest.mark.parametrize("case", ["v1-ddpm", "v2-sde", "v2-dopri5", "v2-beyond-ntkpro2-decouple-euler"])
def test_fixture_trajectory_reproduces(case):
    spec = next(s for s in msf.CASES if s[0] == case)
    entry = next(e for e in cases() if e["case"] == case)
    _, traj = msf.run_case(spec, torch.float32)
    stored = load_file(str(FIX / entry["file"]))
    fresh = msf.trajectory_tensors(traj, entry["recorded_steps"])
    assert set(stored) == set(fresh)
    # Fixed steps: last-bit differences between CPUs' float kernels stay small. dopri5 chooses its
    # steps from error estimates, so those differences move its step sizes and its states by
    # up to a few tenths of a percent on another CPU.
    bound, times_rel, times_abs = (1e-2, 1e-2, 1e-2) if case.endswith("dopri5") else (1e-5, 1e-6, 1e-9)
    for k, v in fresh.items():
        if v.dtype == torch.int64:
            assert torch.equal(stored[k], v), k
        else:
            assert S.relative_error(v, stored[k]) < bound, k
    assert traj.times == pytest.approx(entry["times"], rel=times_rel, abs=times_abs)
    assert [list(s) for s in traj.draws] == entry["draws"]
