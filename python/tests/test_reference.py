"""Tests of the Python reference model, its presets, RoPE math and the Swift fixtures.

Run from the repository root:  .venv/bin/python -m pytest python/tests -q
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

PY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PY))

import make_fixtures as mf  # noqa: E402
from fixture_files import assert_same_fixture  # noqa: E402
from fit_reference import FiT, PRESETS, flop_count, forward_image, image_to_tokens  # noqa: E402
from fit_reference import rope as R  # noqa: E402
from fit_reference import timestep_embedding, tokens_to_image  # noqa: E402
from fit_reference.model import CONFIG_KEYS  # noqa: E402
from fit_reference.presets import EXPECTED_COUNTS  # noqa: E402

FIX = mf.DEFAULT_OUT


def rel_err(a, b) -> float:
    return mf.relative_error(a, b)


def meta_model(cfg: dict) -> FiT:
    with torch.device("meta"):
        return FiT(**cfg)


# ----------------------------------------------------------------------------------------------
# presets and state dicts
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_tensor_and_parameter_counts(name):
    sd = meta_model(PRESETS[name]).state_dict()
    n_tensors, n_params = EXPECTED_COUNTS[name]
    assert len(sd) == n_tensors
    assert sum(v.numel() for v in sd.values()) == n_params


def test_preset_configs_use_official_names():
    for cfg in PRESETS.values():
        assert set(cfg) == set(CONFIG_KEYS)


def test_released_key_shapes():
    v2 = meta_model(PRESETS["fitv2-xl"]).state_dict()
    expect_v2 = {
        "x_embedder.proj.weight": (1152, 16),
        "t_embedder.mlp.0.weight": (1152, 256),
        "t_embedder.mlp.2.weight": (1152, 1152),
        "y_embedder.embedding_table.weight": (1001, 1152),
        "global_adaLN_modulation.1.weight": (6912, 1152),
        "blocks.35.attn.qkv.weight": (3456, 1152),
        "blocks.35.attn.proj.bias": (1152,),
        "blocks.0.mlp.fc1_g.weight": (3072, 1152),
        "blocks.0.mlp.fc1_x.bias": (3072,),
        "blocks.0.mlp.fc2.weight": (1152, 3072),
        "blocks.0.adaLN_modulation.1.weight": (288, 1152),
        "blocks.0.adaLN_modulation.2.weight": (6912, 288),
        "final_layer.linear.weight": (16, 1152),
        "final_layer.adaLN_modulation.1.weight": (2304, 1152),
    }
    for k, s in expect_v2.items():
        assert tuple(v2[k].shape) == s, k
    v1 = meta_model(PRESETS["fitv1-xl"]).state_dict()
    assert not any(k.startswith("global_adaLN") for k in v1)
    assert not any(".adaLN_modulation.2." in k for k in v1)
    assert tuple(v1["blocks.27.mlp.fc1_g.weight"].shape) == (4608, 1152)
    assert tuple(v1["blocks.0.adaLN_modulation.1.weight"].shape) == (6912, 1152)
    assert tuple(v1["final_layer.linear.weight"].shape) == (32, 1152)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_state_dict_strict_roundtrip_meta(name):
    sd = meta_model(PRESETS[name]).state_dict()
    other = meta_model(PRESETS[name])
    res = other.load_state_dict(sd, strict=True, assign=True)
    assert not res.missing_keys and not res.unexpected_keys


@pytest.mark.parametrize("name", sorted(mf.TINY_MODELS))
def test_tiny_state_dict_roundtrip_through_safetensors(name, tmp_path):
    cfg = mf.TINY_MODELS[name]
    gen = torch.Generator().manual_seed(1)
    w = mf.random_weights(FiT(**cfg), gen)
    path = tmp_path / "m.safetensors"
    mf.save_checkpoint(path, w, cfg, torch.float32)
    with safe_open(str(path), framework="pt") as f:
        assert json.loads(f.metadata()["fit_config"]) == cfg
    m = FiT(**cfg)
    m.load_state_dict(load_file(str(path)), strict=True)
    for k, v in m.state_dict().items():
        assert torch.equal(v, w[k].float()), k
    bad = dict(load_file(str(path)))
    bad.pop("final_layer.linear.bias")
    with pytest.raises(RuntimeError):
        FiT(**cfg).load_state_dict(bad, strict=True)


# ----------------------------------------------------------------------------------------------
# RoPE facts (docs/model.md section 3.2)
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dim,s,base", [(36, 1.25, 12665.2), (36, 1.75, 18085.7), (36, 2.0, 20832.3),
                                        (36, 2.5, 26384.5), (36, 3.0, 32002.7), (48, 2.0, 20611.9)])
def test_ntk_base(dim, s, base):
    assert R.ntk_base(dim, 10000.0, s) == pytest.approx(base, abs=0.06)


@pytest.mark.parametrize("h,w,p2sq", [(16, 16, 1.125), (20, 20, 1.2055), (14, 28, 1.2018),
                                      (10, 30, 1.1536), (32, 32, 1.375), (20, 40, 1.3305)])
def test_pro2_logit_scale(h, w, p2sq):
    m = R.rope_multiplier("ntk-aware-pro2", h, w, 16)
    assert m * m == pytest.approx(p2sq, abs=6e-5)


def test_pro1_and_yarn_multipliers():
    # p1 = p(max(h,w), L): 2*16/16 > 1, so even the training size gives sqrt(ln 32 / ln 16)
    assert R.rope_multiplier("ntk-aware-pro1", 16, 16, 16) == pytest.approx(math.sqrt(1.25))
    assert R.rope_multiplier("ntk-aware-pro1", 8, 4, 16) == 1.0
    assert R.rope_multiplier("yarn", 20, 40, 16) == pytest.approx(0.1 * math.log(2.5) + 1)
    assert R.rope_multiplier("yarn", 16, 8, 16) == 1.0
    for mode in ("normal", "linear", "ntk-aware", "ntk-by-parts"):
        assert R.rope_multiplier(mode, 20, 40, 16) == 1.0


def test_yarn_gamma_and_correction_ranges():
    assert R.correction_range(32, 1, 36, 10000.0, 16) == (0, 2)
    assert R.correction_range(1.25, 0.75, 36, 10000.0, 16) == (1, 3)
    assert R.correction_range(16, 2, 36, 10000.0, 16) == (0, 1)
    assert R.correction_range(32, 1, 48, 10000.0, 16) == (0, 3)
    gamma36 = 1 - R.ramp(0, 2, 18)
    assert gamma36.tolist() == [1.0, 0.5] + [0.0] * 16
    gamma48 = 1 - R.ramp(0, 3, 24)
    assert gamma48[:4].tolist() == pytest.approx([1, 2 / 3, 1 / 3, 0])
    # yarn frequencies: (1 - g) theta / s + g theta
    fh, fw, _ = R.rope_params("yarn", 72, 32, 24, decouple=True, ori_max_pe_len=16)
    base = R.base_freqs(36)
    expect_h = (1 - gamma36) * base / 2.0 + gamma36 * base
    assert torch.allclose(fh, expect_h, rtol=1e-15, atol=0)
    expect_w = (1 - gamma36) * base / 1.5 + gamma36 * base
    assert torch.allclose(fw, expect_w, rtol=1e-15, atol=0)


def test_ntk_by_parts_masks_dim36():
    s = 2.0
    fh, _, _ = R.rope_params("ntk-by-parts", 72, 32, 32, decouple=False, ori_max_pe_len=16)
    base = R.base_freqs(36)
    lin = base / s
    ntk = 1.0 / (R.ntk_base(36, 10000.0, s) ** (torch.arange(0, 36, 2, dtype=torch.float64) / 36))
    m1 = torch.tensor([1, 1, 0.5] + [0] * 15, dtype=torch.float64)
    m2 = torch.tensor([1] + [0] * 17, dtype=torch.float64)
    expect = (lin * (1 - m1) + ntk * m1) * (1 - m2) + base * m2
    assert torch.allclose(fh, expect, rtol=1e-15, atol=0)


def test_decouple_and_scale_rules():
    # decoupled: per-axis scale; coupled: both axes use max(h, w)
    fh, fw, _ = R.rope_params("ntk-aware", 72, 10, 20, decouple=True, ori_max_pe_len=16)
    assert torch.equal(fh, R.base_freqs(36))            # s(10) = 1
    assert not torch.equal(fw, R.base_freqs(36))        # s(20) = 1.25
    gh, gw, _ = R.rope_params("ntk-aware", 72, 10, 20, decouple=False, ori_max_pe_len=16)
    assert torch.equal(gh, gw) and torch.equal(gw, fw)
    nh, nw, m = R.rope_params("normal", 72, 100, 100, decouple=True, ori_max_pe_len=16)
    assert torch.equal(nh, R.base_freqs(36)) and m == 1.0


def test_rope_table_layout():
    fh = torch.tensor([1.0, 0.1], dtype=torch.float64)
    fw = torch.tensor([2.0, 0.2], dtype=torch.float64)
    grid = R.row_major_grid(2, 3)                       # token 5 = row 1, col 2
    cos, sin = R.cos_sin_from_grid(grid, fh, fw, 1.0)
    ang = torch.acos(cos[0, 5].clamp(-1, 1))
    expect = torch.tensor([1.0, 1.0, 0.1, 0.1, 4.0, 4.0, 0.4, 0.4], dtype=torch.float64)
    expect = torch.acos(torch.cos(expect))
    assert torch.allclose(ang, expect, atol=1e-12)
    x = torch.arange(8, dtype=torch.float64)
    assert R.rotate_pairs(x).tolist() == [-1, 0, -3, 2, -5, 4, -7, 6]


# ----------------------------------------------------------------------------------------------
# model semantics
# ----------------------------------------------------------------------------------------------

def test_patchify_channel_order_and_inverse():
    x = torch.randn(2, 3, 8, 12, dtype=torch.float64)
    tok = image_to_tokens(x, 4)                        # h=2, w=3
    b, row, col, c, p1, p2 = 1, 1, 2, 2, 3, 1
    assert tok[b, row * 3 + col, c * 16 + p1 * 4 + p2] == x[b, c, row * 4 + p1, col * 4 + p2]
    assert torch.equal(tokens_to_image(tok, 2, 3, 4), x)


def _tiny(name, dtype=torch.float64, seed=0):
    cfg = mf.TINY_MODELS[name]
    m = FiT(**cfg)
    w = mf.random_weights(m, torch.Generator().manual_seed(seed))
    m.load_state_dict({k: v.float() for k, v in w.items()})
    return m.to(dtype).eval()


def test_v1_uses_raw_timestep_and_v2_clamps():
    x = torch.randn(1, 4, 8, 8, dtype=torch.float64)
    y = torch.tensor([1])
    with torch.no_grad():
        v1 = _tiny("v1-tiny")
        a = forward_image(v1, x, torch.tensor([17.0]), y)
        b = forward_image(v1, x, torch.tensor([999.0]), y)
        assert rel_err(a, b) > 1e-3                      # v1: no clamp
        v2 = _tiny("v2-tiny")
        c = forward_image(v2, x, torch.tensor([1.0]), y)
        d = forward_image(v2, x, torch.tensor([3.0]), y)
        assert torch.equal(c, d)                         # v2: clamp(t, max=1)


def test_mask_semantics():
    m = _tiny("v2-tiny")
    h, w, p = 4, 4, 2
    x = torch.randn(1, 4, h * p, w * p, dtype=torch.float64)
    mask = torch.ones(1, h * w, dtype=torch.float64)
    mask[0, -5:] = 0
    tok = image_to_tokens(x, p)
    grid = R.row_major_grid(h, w)
    t, y = torch.tensor([0.5]), torch.tensor([3])
    with torch.no_grad():
        out = m(tok, t, y, grid, mask, pe_hw=(h, w))
        tok2 = tok.clone()
        tok2[0, -5:] = torch.randn(5, tok.shape[-1], dtype=torch.float64)
        out2 = m(tok2, t, y, grid, mask, pe_hw=(h, w))
        # valid tokens ignore padding content; padding outputs are zero
        assert torch.allclose(out[0, :-5], out2[0, :-5], rtol=0, atol=1e-12)
        assert torch.all(out[0, -5:] == 0)
        # the valid part equals running the valid tokens alone
        alone = m(tok[:, :-5], t, y, grid[:, :, :-5], None, pe_hw=(h, w))
        assert torch.allclose(out[:, :-5], alone, rtol=0, atol=1e-12)


def test_online_rope_matches_per_resolution_build():
    cfg = dict(mf.TINY_MODELS["v2-tiny"], custom_freqs="ntk-aware", decouple=True,
               ori_max_pe_len=8, online_rope=True)
    m = FiT(**cfg).double().eval()
    grid = R.row_major_grid(6, 12, 1)
    size = torch.tensor([[[6, 12]]])
    c1, s1 = m.rope_tables(grid, size=size)
    c2, s2 = m.rope_tables(grid, pe_hw=(6, 12))
    assert torch.equal(c1, c2) and torch.equal(s1, s2)


def test_flop_count_matches_reference_macs():
    # docs/model.md 2.1: v2-XL 152.3 GMAC @256 tokens, v1-XL 156.7, v2-3B 665 (1 image)
    assert flop_count(PRESETS["fitv2-xl"], 256) / 2e9 == pytest.approx(152.3, rel=2e-3)
    assert flop_count(PRESETS["fitv1-xl"], 256) / 2e9 == pytest.approx(156.7, rel=2e-3)
    assert flop_count(PRESETS["fitv2-3b"], 256) / 2e9 == pytest.approx(665, rel=2e-3)
    assert flop_count(PRESETS["fitv2-xl"], 400) / 2e9 == pytest.approx(243, rel=3e-3)


# ----------------------------------------------------------------------------------------------
# fixtures on disk
# ----------------------------------------------------------------------------------------------

def _manifest():
    path = FIX / "manifest.json"
    if not path.exists():
        pytest.skip("fixtures not generated (run python/make_fixtures.py)")
    return json.loads(path.read_text())


def test_manifest_covers_required_cases():
    man = _manifest()
    interps = {c["interpolation"] for c in man if c["checkpoint"] == "v2-tiny.safetensors"}
    assert interps == set(R.INTERPOLATION_TO_MODE)
    assert {c["checkpoint"] for c in man} == {
        "v1-tiny.safetensors", "v2-tiny.safetensors", "pixel-tiny.safetensors",
        "v2-tiny-f16.safetensors", "v2-tiny-bf16.safetensors", "gelu-tiny.safetensors"}
    for c in man:
        for k in ("inputs", "output", "checkpoint"):
            assert (FIX / c[k]).exists()


@pytest.mark.parametrize("case", [c[0] for c in mf.CASES])
def test_fixture_outputs_reproduce(case):
    man = {c["case"]: c for c in _manifest()}
    c = man[case]
    inputs = load_file(str(FIX / c["inputs"]))
    expected = load_file(str(FIX / c["output"]))["out"]
    got = mf.compute_case_output(FIX / c["checkpoint"], inputs, c["interpolation"], c["decouple"],
                                 c["ori_max_pe_len"], (c["grid_h"], c["grid_w"]))
    assert got.shape == expected.shape
    # the F32 rounding of the file, and float kernels that differ between CPUs (AVX2/AVX-512/AMX)
    assert rel_err(got, expected) < 1e-5
    # a float32 forward of the same checkpoint stays close to the float64 reference
    model = mf.load_checkpoint_f64(FIX / c["checkpoint"],
                                   **R.sampler_overrides(c["interpolation"], c["decouple"],
                                                             c["ori_max_pe_len"],
                                                             (c["grid_h"], c["grid_w"]))).float()
    with torch.no_grad():
        out32 = forward_image(model, inputs["x"], inputs["t"], inputs["y"].long(), inputs.get("mask"))
    assert rel_err(out32, expected) < 1e-4


def test_low_precision_checkpoints_hold_rounded_weights():
    ref = load_file(str(FIX / "v2-tiny.safetensors"))
    for name, dt in (("v2-tiny-f16.safetensors", torch.float16), ("v2-tiny-bf16.safetensors", torch.bfloat16)):
        low = load_file(str(FIX / name))
        assert set(low) == set(ref)
        for k in ref:
            assert low[k].dtype == dt and torch.equal(low[k], ref[k].to(dt)), k


def test_rope_tables_and_timestep_embedding_reproduce():
    _manifest()
    rt = load_file(str(FIX / "rope_tables.safetensors"))
    tensors, _ = mf.rope_tables()
    assert set(rt) == set(tensors)
    for k, v in tensors.items():
        assert torch.equal(rt[k], v), k
    te = load_file(str(FIX / "timestep_embedding.safetensors"))
    emb = timestep_embedding(te["t"].double(), 256)
    # float32 arguments t·freq with t up to 1000 (ulp 6e-5) and sin/cos paths that differ
    # between CPUs: the stored float32 table is within 1e-4 of the float64 one
    assert torch.allclose(te["emb"].double(), emb, rtol=0, atol=1e-4)
    assert torch.allclose(te["emb"][:, 0].double(), torch.cos(te["t"].double()), atol=1e-4)  # cos first
    assert torch.equal(te["emb"][0], torch.cat([torch.ones(128), torch.zeros(128)]))


def test_make_fixtures_is_deterministic(tmp_path):
    _manifest()
    mf.main(["--out", str(tmp_path)])
    for f in sorted(FIX.iterdir()):
        assert_same_fixture(tmp_path / f.name, f)
