"""Tests of the SD-VAE decoder reference, the synthetic weight generator and the VAE fixtures.

The comparison with diffusers' AutoencoderKL needs the pinned ``diffusers`` (python/requirements.txt).
The real-shape fixture's full float64 decode is slow (~622 GFLOP) and runs only with FIT_SLOW=1.
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

PY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PY))

import make_vae_fixtures as mv  # noqa: E402
from fixture_files import assert_same_fixture  # noqa: E402
from fit_reference.synthetic_weights import (fnv1a64, splitmix64, synthetic_state_dict,  # noqa: E402
                                             synthetic_tensor, synthetic_torch_state_dict)
from fit_reference.vae import (SD_VAE_FT_EMA, SD_VAE_FT_EMA_CONFIG_JSON, VAEConfig,  # noqa: E402
                               VAEConfigError, VAEDecoder, VAEStateDictError,
                               decoder_state_dict_keys, load_vae, normalize_vae_state_dict,
                               to_uint8, vae_flop_count)

FIX = mv.DEFAULT_OUT
REDUCED = VAEConfig(block_out_channels=(32, 32, 64, 64), layers_per_block=1, norm_num_groups=8)


def rel_err(a, b) -> float:
    return mv.relative_error(a, b)


# ----------------------------------------------------------------------------------------------
# config, keys, FLOPs
# ----------------------------------------------------------------------------------------------

def test_real_config_tensor_and_parameter_counts():
    keys = decoder_state_dict_keys(SD_VAE_FT_EMA)
    assert len(keys) == 140
    assert sum(math.prod(s) for s in keys.values()) == 49_490_199
    assert keys["decoder.up_blocks.2.resnets.0.conv_shortcut.weight"] == (256, 512, 1, 1)
    assert keys["decoder.up_blocks.3.resnets.0.conv_shortcut.weight"] == (128, 256, 1, 1)
    assert keys["decoder.mid_block.attentions.0.to_out.0.weight"] == (512, 512)
    assert keys["decoder.conv_out.weight"] == (3, 128, 3, 3)
    assert "decoder.up_blocks.3.upsamplers.0.conv.weight" not in keys
    assert not any(".conv_shortcut." in k for k in keys if ".up_blocks.0." in k or ".up_blocks.1." in k)


@pytest.mark.parametrize("cfg", [SD_VAE_FT_EMA, REDUCED, mv.TINY_CASES["tiny-3up"][0]],
                         ids=["real", "reduced", "tiny-3up"])
def test_keys_match_module_state_dict(cfg):
    with torch.device("meta"):
        sd = VAEDecoder(cfg).state_dict()
    keys = decoder_state_dict_keys(cfg)
    assert list(sd) == list(keys)
    assert all(tuple(sd[k].shape) == s for k, s in keys.items())


def test_config_from_json_dict():
    cfg = VAEConfig.from_dict(SD_VAE_FT_EMA_CONFIG_JSON)
    assert cfg.block_out_channels == (128, 256, 512, 512)
    assert (cfg.layers_per_block, cfg.latent_channels, cfg.norm_num_groups) == (2, 4, 32)
    assert cfg.scaling_factor == 0.18215 and cfg.out_channels == 3 and cfg.mid_block_add_attention
    assert VAEConfig.from_dict({**SD_VAE_FT_EMA_CONFIG_JSON, "whatever": 1, "force_upcast": True}) == cfg
    assert VAEConfig.from_dict(cfg.to_dict()) == cfg
    sdxl = VAEConfig.from_dict({**SD_VAE_FT_EMA_CONFIG_JSON, "scaling_factor": 0.13025,
                                "mid_block_add_attention": False})
    assert sdxl.scaling_factor == 0.13025 and not sdxl.mid_block_add_attention
    with pytest.raises(VAEConfigError, match="act_fn"):
        VAEConfig.from_dict({**SD_VAE_FT_EMA_CONFIG_JSON, "act_fn": "gelu"})
    with pytest.raises(VAEConfigError, match="shift_factor"):
        VAEConfig.from_dict({**SD_VAE_FT_EMA_CONFIG_JSON, "shift_factor": 0.1159})
    with pytest.raises(VAEConfigError, match="multiple of norm_num_groups"):
        VAEConfig.from_dict({**SD_VAE_FT_EMA_CONFIG_JSON, "norm_num_groups": 24})


def test_flop_count_matches_reference_brief():
    # docs/cpu.md section 3.1: 622 / 2515 / 10470 GFLOP
    assert round(vae_flop_count(SD_VAE_FT_EMA, 32, 32) / 1e9) == 622
    assert round(vae_flop_count(SD_VAE_FT_EMA, 64, 64) / 1e9) == 2515
    assert round(vae_flop_count(SD_VAE_FT_EMA, 128, 128) / 1e9) == 10470
    assert vae_flop_count(SD_VAE_FT_EMA, 32, 32, batch=2) == 2 * vae_flop_count(SD_VAE_FT_EMA, 32, 32)


# ----------------------------------------------------------------------------------------------
# synthetic weights: known values for the Swift port
# ----------------------------------------------------------------------------------------------

def f32_hex(values) -> list:
    return [float(v).hex() for v in np.asarray(values, dtype=np.float32)]


def test_synthetic_primitives():
    assert fnv1a64("") == 0xCBF29CE484222325
    assert fnv1a64("a") == 0xAF63DC4C8601EC8C                       # the published FNV-1a test vector
    assert int(splitmix64(np.array([0], dtype=np.uint64))[0]) == 0xE220A8397B1DCDAF   # splitmix64(seed 0)
    assert fnv1a64("decoder.conv_in.weight") == 0x4E1E1452528DBF91


def test_synthetic_known_values():
    w = synthetic_tensor("decoder.conv_in.weight", (512, 4, 3, 3))
    assert w.dtype == np.float32 and w.shape == (512, 4, 3, 3)
    # 0.09808971, -0.13535804, -0.00762566; scale float32(sqrt(3/36))
    assert f32_hex(w.ravel()[:3]) == ["0x1.91c6840000000p-4", "-0x1.1536980000000p-3",
                                      "-0x1.f3c15a0000000p-8"]
    g = synthetic_tensor("decoder.conv_norm_out.weight", (128,))
    # 0.90390414, 0.87637377, 0.98182857 (1 + 0.2 v)
    assert f32_hex(g[:3]) == ["0x1.cecc860000000p-1", "0x1.c0b4100000000p-1", "0x1.f6b23c0000000p-1"]
    b = synthetic_tensor("decoder.conv_in.bias", (512,))
    # -0.09730567, 0.06900304, -0.08422840 (0.1 v)
    assert f32_hex(b[:3]) == ["-0x1.8e90640000000p-4", "0x1.1aa2ee0000000p-4", "-0x1.58ffe00000000p-4"]
    big = synthetic_tensor("decoder.up_blocks.0.resnets.0.conv1.weight", (512, 512, 3, 3)).ravel()
    # the last three of 2,359,296 elements: 0.01698285, 0.01394083, 0.00144375
    assert f32_hex(big[-3:]) == ["0x1.163f380000000p-6", "0x1.c8d0280000000p-7", "0x1.7a78240000000p-10"]


def test_synthetic_ranges_and_determinism():
    w = synthetic_tensor("x.weight", (64, 32, 3, 3))
    s = np.float32(math.sqrt(3 / (32 * 9)))
    assert w.min() >= -s and w.max() < s and abs(float(w.std()) - float(s) / math.sqrt(3)) < 0.01 * s
    g = synthetic_tensor("x.norm.weight", (4096,))
    assert g.min() >= 0.8 and g.max() < 1.2
    b = synthetic_tensor("x.bias", (4096,))
    assert b.min() >= -0.1 and b.max() < 0.1
    np.testing.assert_array_equal(synthetic_tensor("x.weight", (64, 32, 3, 3)), w)
    # the same key with a different shape shares the leading uniforms (element i depends on h + i)
    assert not np.array_equal(synthetic_tensor("y.weight", (64, 32, 3, 3)), w)
    with pytest.raises(ValueError):
        synthetic_tensor("x.running_mean", (4,))


# ----------------------------------------------------------------------------------------------
# the reference against diffusers
# ----------------------------------------------------------------------------------------------

def diffusers_vae(cfg: VAEConfig, sd: dict, dtype: torch.dtype):
    diffusers = pytest.importorskip("diffusers")
    n = len(cfg.block_out_channels)
    with torch.device("meta"):                    # the encoder stays on meta: decode never touches it
        vae = diffusers.AutoencoderKL(
            in_channels=3, out_channels=cfg.out_channels,
            down_block_types=["DownEncoderBlock2D"] * n, up_block_types=["UpDecoderBlock2D"] * n,
            block_out_channels=list(cfg.block_out_channels), layers_per_block=cfg.layers_per_block,
            latent_channels=cfg.latent_channels, norm_num_groups=cfg.norm_num_groups,
            scaling_factor=cfg.scaling_factor, mid_block_add_attention=cfg.mid_block_add_attention)
    theirs = {k: v.shape for k, v in vae.state_dict().items()
              if not k.startswith(("encoder.", "quant_conv."))}
    assert theirs.keys() == decoder_state_dict_keys(cfg).keys()
    assert all(tuple(theirs[k]) == s for k, s in decoder_state_dict_keys(cfg).items())
    res = vae.load_state_dict({k: v.to(dtype) for k, v in sd.items()}, strict=False, assign=True)
    assert not res.unexpected_keys
    assert all(k.startswith(("encoder.", "quant_conv.")) for k in res.missing_keys)
    return vae.eval()


def legacy_names(sd: dict) -> dict:
    out = {}
    for k, v in sd.items():
        for new, old in mv.LEGACY_NAMES.items():
            tag = f".attentions.0.{new}."
            if tag in k:
                k = k.replace(tag, f".attentions.0.{old}.")
                v = v.reshape(*v.shape, 1, 1) if k.endswith(".weight") else v
        out[k] = v
    out["encoder.conv_in.weight"] = torch.zeros(8, 3, 3, 3)
    out["quant_conv.weight"] = torch.zeros(8, 8, 1, 1)
    return out


@pytest.mark.parametrize("case,cfg,zshape,dtype,tol", [
    ("reduced-f64", REDUCED, (2, 4, 6, 10), torch.float64, 1e-5),
    ("reduced-noattn-f32", VAEConfig(block_out_channels=(16, 32, 32), layers_per_block=2,
                                     norm_num_groups=4, scaling_factor=0.13025,
                                     mid_block_add_attention=False), (1, 4, 5, 7), torch.float32, 1e-4),
    ("real-8x8-f64", SD_VAE_FT_EMA, (1, 4, 8, 8), torch.float64, 1e-5),
])
@torch.no_grad()
def test_matches_diffusers(case, cfg, zshape, dtype, tol):
    sd = synthetic_torch_state_dict(decoder_state_dict_keys(cfg))
    vae = diffusers_vae(cfg, sd, dtype)
    ours = VAEDecoder(cfg).to(dtype).eval()
    ours.load_diffusers_state_dict(sd)
    z = torch.randn(zshape, generator=torch.Generator().manual_seed(7), dtype=dtype)
    expect = vae.decode(z / cfg.scaling_factor).sample
    got = ours.decode(z)
    up = cfg.upsample_factor
    assert got.shape == (zshape[0], 3, zshape[2] * up, zshape[3] * up) == expect.shape
    assert rel_err(got, expect) <= tol
    if cfg is SD_VAE_FT_EMA:
        return                                    # (a third real-size decode would be slow)
    # the same weights under the deprecated attention names (4-D) load to the same model
    legacy = VAEDecoder(cfg).to(dtype).eval()
    legacy.load_diffusers_state_dict(legacy_names(sd))
    assert torch.equal(legacy.decode(z), got)


# ----------------------------------------------------------------------------------------------
# normalizer and loader
# ----------------------------------------------------------------------------------------------

def test_normalizer_renames_squeezes_and_drops():
    cfg = REDUCED
    sd = synthetic_torch_state_dict(decoder_state_dict_keys(cfg))
    norm = normalize_vae_state_dict(legacy_names(sd), cfg)
    assert list(norm) == list(decoder_state_dict_keys(cfg))
    assert norm["decoder.mid_block.attentions.0.to_out.0.weight"].shape == (64, 64)
    assert all(torch.equal(norm[k], sd[k]) for k in sd)


def test_normalizer_missing_tensor():
    cfg = REDUCED
    sd = synthetic_torch_state_dict(decoder_state_dict_keys(cfg))
    del sd["decoder.up_blocks.1.resnets.0.conv2.bias"]
    with pytest.raises(VAEStateDictError, match=r"missing 1: decoder\.up_blocks\.1\.resnets\.0\.conv2\.bias"):
        normalize_vae_state_dict(sd, cfg)


def test_normalizer_misshaped_and_unexpected_tensor():
    cfg = REDUCED
    sd = synthetic_torch_state_dict(decoder_state_dict_keys(cfg))
    sd["decoder.conv_in.weight"] = torch.zeros(64, 4, 1, 1)
    with pytest.raises(VAEStateDictError,
                       match=r"mis-shaped 1: decoder\.conv_in\.weight: expected \[64, 4, 3, 3\], got \[64, 4, 1, 1\]"):
        normalize_vae_state_dict(sd, cfg)
    sd = synthetic_torch_state_dict(decoder_state_dict_keys(cfg))
    sd["decoder.up_blocks.9.resnets.0.conv1.bias"] = torch.zeros(3)
    with pytest.raises(VAEStateDictError, match=r"unexpected 1: decoder\.up_blocks\.9"):
        normalize_vae_state_dict(sd, cfg)
    # a checkpoint for another config: every problem is reported, not only the first
    with pytest.raises(VAEStateDictError, match=r"missing 24: .* \| unexpected 18: "):
        normalize_vae_state_dict(synthetic_torch_state_dict(decoder_state_dict_keys(REDUCED)),
                                 VAEConfig(block_out_channels=(32, 64, 64), layers_per_block=2,
                                           norm_num_groups=8))


def test_to_uint8_truncates_and_clamps():
    x = torch.tensor([0.0, -1.0, 1.0, 0.99, -0.999, -1.5, 2.0, 0.5, -0.0039], dtype=torch.float32)
    assert to_uint8(x).tolist() == [128, 0, 255, 254, 0, 0, 255, 191, 127]
    assert to_uint8(x).dtype == torch.uint8


# ----------------------------------------------------------------------------------------------
# fixtures on disk
# ----------------------------------------------------------------------------------------------

def tiny_checkpoint_path(name: str) -> Path:
    layout = mv.TINY_CASES[name][2]
    return FIX / name if layout == "folder" else FIX / f"{name}.safetensors"


@pytest.mark.parametrize("name", sorted(mv.TINY_CASES))
@torch.no_grad()
def test_tiny_fixture_matches_reference(name):
    cfg, zshape, layout, dtype, _ = mv.TINY_CASES[name]
    model = load_vae(tiny_checkpoint_path(name), dtype=torch.float64)
    assert model.config == cfg
    io = load_file(str(FIX / f"{name}.io.safetensors"))
    assert tuple(io["z"].shape) == zshape and io["z"].dtype == torch.float32
    got = model.decode(io["z"].double())
    assert io["image"].dtype == torch.float32 and io["image"].shape == got.shape
    assert rel_err(io["image"], got) <= 1e-6
    assert torch.equal(io["image_u8"], to_uint8(io["image"]))
    assert 0.3 < float(io["image"].std()) < 3.0            # not a degenerate (constant) output


def test_tiny_fixture_layouts():
    with safe_open(str(FIX / "tiny-legacy" / "diffusion_pytorch_model.safetensors"), "pt") as f:
        keys = set(f.keys())
        assert f.metadata() == {"format": "pt"}
    assert "decoder.mid_block.attentions.0.proj_attn.weight" in keys
    assert "quant_conv.weight" in keys and any(k.startswith("encoder.") for k in keys)
    assert "scaling_factor" not in json.loads((FIX / "tiny-legacy" / "config.json").read_text())
    with safe_open(str(FIX / "tiny-3up.safetensors"), "pt") as f:
        assert f.get_tensor("decoder.conv_in.weight").dtype == torch.float16


def test_fixtures_regenerate_byte_identically(tmp_path):
    mv.main(["--out", str(tmp_path), "--skip-real"])
    made = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert made
    for rel in made:
        assert_same_fixture(tmp_path / rel, FIX / rel)


def test_real_fixture_metadata_and_weight_sums():
    path = FIX / f"{mv.REAL_CASE}.safetensors"
    with safe_open(str(path), "pt") as f:
        meta = f.metadata()
        shapes = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
    assert meta["weights"] == "synthetic"
    assert VAEConfig.from_json(meta["vae_config"]) == SD_VAE_FT_EMA
    assert shapes == {"z": (1, 4, 32, 32), "image": (1, 3, 256, 256), "image_u8": (1, 3, 256, 256)}
    # the metadata holds exact sums (math.fsum); numpy's float64 sums are within ~1e-12
    s = a = 0.0
    for v in synthetic_state_dict(decoder_state_dict_keys(SD_VAE_FT_EMA)).values():
        v64 = v.astype(np.float64)
        s += float(v64.sum())
        a += float(np.abs(v64).sum())
    assert s == pytest.approx(float(meta["synthetic_sum"]), rel=1e-9, abs=1e-6)
    assert a == pytest.approx(float(meta["synthetic_abs_sum"]), rel=1e-12)
    io = load_file(str(path))
    assert torch.equal(io["image_u8"], to_uint8(io["image"]))


@pytest.mark.skipif(os.environ.get("FIT_SLOW") != "1", reason="float64 decode of ~622 GFLOP; FIT_SLOW=1")
@torch.no_grad()
def test_real_fixture_matches_reference():
    io = load_file(str(FIX / f"{mv.REAL_CASE}.safetensors"))
    got = mv.real_model_f64().decode(io["z"].double())
    assert rel_err(io["image"], got) <= 1e-6
