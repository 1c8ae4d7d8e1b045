"""Tests of python/convert_checkpoint.py (released-checkpoint and VAE conversion) and of the
ImageNet-1k class-name list it embeds. Small models only: the released presets are checked
from shapes built on the meta device, never allocated."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections import OrderedDict
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))

import convert_checkpoint as cc  # noqa: E402
from fit_reference import vae as vae_ref  # noqa: E402
from fit_reference.model import FiT  # noqa: E402
from fit_reference.presets import EXPECTED_COUNTS, PRESETS, preset_config  # noqa: E402

CLASSES = ROOT / "Sources/FiTTUI/Resources/imagenet-1k-classes.json"

TINY_NAME = "tiny-v2"
TINY = preset_config("fitv2-xl", hidden_size=32, depth=2, num_heads=2, adaln_lora_dim=8, num_classes=10)
TINY_NAMES = [f"class {i}, synonym {i}" for i in range(10)]


def tiny_state_dict(seed: int = 0) -> "OrderedDict[str, torch.Tensor]":
    torch.manual_seed(seed)
    model = FiT(**TINY)
    with torch.no_grad():
        for p in model.parameters():   # the reference zero-initialises some layers; make every tensor distinct
            p.normal_(0, 0.02)
    return OrderedDict((k, v.detach().clone()) for k, v in model.state_dict().items())


def tiny_expectations():
    sd = cc.expected_shapes(TINY)
    return {TINY_NAME: TINY}, {TINY_NAME: (len(sd), sum(cc.numel(s) for s in sd.values()))}


def convert_tiny(inp: Path, out: Path, **kw) -> dict:
    presets, expected = tiny_expectations()
    return cc.convert_fit(inp, out, presets=presets, expected=expected, class_names=TINY_NAMES, **kw)


def assert_converted(out: Path, sd, inp: Path, fmt: str):
    with safe_open(str(out), framework="pt") as f:
        meta = f.metadata()
        assert sorted(f.keys()) == sorted(sd)
        for k in sd:
            t = f.get_tensor(k)
            assert t.dtype == torch.float32
            assert torch.equal(t, sd[k].float()), k
    assert json.loads(meta["fit_config"]) == TINY
    assert json.loads(meta["class_names"]) == TINY_NAMES
    sampling = json.loads(meta["fit_sampling"])
    assert sampling["sampler"] == "dopri5" and sampling["size"] == "256x256"
    source = json.loads(meta["fit_source"])
    assert source["file"] == inp.name and source["format"] == fmt and source["preset"] == TINY_NAME
    assert source["sha256"] == hashlib.sha256(inp.read_bytes()).hexdigest()
    # The written file loads strictly into the reference model.
    FiT(**json.loads(meta["fit_config"])).load_state_dict(load_file(str(out)), strict=True)
    # Data starts aligned, so the Swift loader maps F32 tensors in place.
    header_len = int.from_bytes(out.read_bytes()[:8], "little")
    assert (8 + header_len) % 64 == 0


# ----------------------------------------------------------------------------------------------
# ImageNet-1k class names (Task data file)
# ----------------------------------------------------------------------------------------------

def test_imagenet_class_names():
    names = json.loads(CLASSES.read_text(encoding="utf-8"))
    assert isinstance(names, list) and len(names) == 1000
    assert all(isinstance(n, str) and n == n.strip() and n for n in names)
    assert len(set(names)) == 1000
    assert names[0] == "tench, Tinca tinca"
    assert names[1] == "goldfish, Carassius auratus"
    assert names[207] == "golden retriever"
    assert names[281] == "tabby, tabby cat"
    assert names[388] == "giant panda, panda, panda bear, coon bear, Ailuropoda melanoleuca"
    assert names[417] == "balloon"
    assert names[980] == "volcano"
    assert names[999] == "toilet tissue, toilet paper, bathroom tissue"
    # The two "crane" synsets (bird 134, machine 517) are disambiguated, "crane" still matches 134 first.
    assert names[134].split(", ")[0] == "crane" and names[517].split(", ")[0] == "crane"
    assert cc.load_class_names() == names


# ----------------------------------------------------------------------------------------------
# recognition
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(PRESETS))
def test_recognises_every_released_preset(name):
    shapes = cc.expected_shapes(PRESETS[name])
    count, total = EXPECTED_COUNTS[name]
    assert len(shapes) == count and sum(cc.numel(s) for s in shapes.values()) == total
    hr = "-hr-" in name
    path = "/models/FiTv2_XL_HRFT/model_ema.safetensors" if hr else "/home/chris/FiTv2_XL/model_ema.bin"
    assert cc.recognise(shapes, path) == name
    assert cc.recognise(shapes, "/x/model.bin", preset=name) == name


def test_hr_is_told_apart_by_path_or_preset():
    shapes = cc.expected_shapes(PRESETS["fitv2-3b"])
    assert cc.recognise(shapes, "/w/FiTv2_3B/model_ema.bin") == "fitv2-3b"
    assert cc.recognise(shapes, "/w/FiTv2_3B_HRFT/model_ema.safetensors") == "fitv2-hr-3b"
    assert cc.recognise(shapes, "/w/fitv2-hr-3b.safetensors") == "fitv2-hr-3b"
    assert cc.recognise(shapes, "/home/CHRIS/three.bin") == "fitv2-3b"   # "HR" inside a word
    assert cc.recognise(shapes, "/w/FiTv2_3B_HRFT/m.bin", preset="fitv2-3b") == "fitv2-3b"
    with pytest.raises(cc.ConversionError, match="not the fitv2-xl model"):
        cc.recognise(shapes, "/w/m.bin", preset="fitv2-xl")


def test_refuses_a_state_dict_that_differs_naming_the_keys():
    shapes = dict(cc.expected_shapes(PRESETS["fitv2-xl"]))
    del shapes["blocks.7.attn.qkv.bias"]
    shapes["blocks.7.attn.extra.weight"] = (4, 4)
    shapes["final_layer.linear.weight"] = (32, 1152)
    with pytest.raises(cc.ConversionError) as e:
        cc.recognise(shapes, "/w/model.safetensors")
    msg = str(e.value)
    assert "\n" not in msg
    assert "closest: fitv2-xl" in msg
    assert "missing 1: blocks.7.attn.qkv.bias" in msg
    assert "unexpected 1: blocks.7.attn.extra.weight" in msg
    assert "final_layer.linear.weight (32, 1152) instead of (16, 1152)" in msg


def test_refuses_a_wrong_tensor_count_or_total():
    shapes = dict(cc.expected_shapes(PRESETS["fitv1-xl"]))
    for i in range(5):
        shapes.pop(f"blocks.27.mlp.fc{'1_g' if i % 2 else '2'}.{'weight' if i < 2 else 'bias'}", None)
    with pytest.raises(cc.ConversionError, match=r"it has 343 tensors.*fitv1-xl has 347 tensors, 823,599,392"):
        cc.recognise(shapes, "/w/model_ema.bin")
    # The table check: shapes that fit the model but not the expected (count, total) are refused.
    presets, expected = tiny_expectations()
    count, total = expected[TINY_NAME]
    with pytest.raises(cc.ConversionError, match=f"released file has {count} tensors, {total + 1:,} parameters"):
        cc.recognise(cc.expected_shapes(TINY), "", presets=presets, expected={TINY_NAME: (count, total + 1)})


# ----------------------------------------------------------------------------------------------
# end-to-end conversion of a tiny model through the same code path
# ----------------------------------------------------------------------------------------------

def test_converts_a_torch_zip_with_module_prefix(tmp_path):
    sd = tiny_state_dict()
    inp = tmp_path / "model_ema.bin"
    torch.save(OrderedDict(("module." + k, v) for k, v in sd.items()), inp)
    out = tmp_path / "out" / "tiny.safetensors"
    summary = convert_tiny(inp, out)
    assert summary["preset"] == TINY_NAME and summary["format"] == cc.FORMAT_TORCH_ZIP
    assert summary["stripped_prefix"] is True
    assert_converted(out, sd, inp, cc.FORMAT_TORCH_ZIP)
    assert [p.name for p in out.parent.iterdir()] == ["tiny.safetensors"]


def test_converts_safetensors_and_widens_half_precision(tmp_path):
    sd = tiny_state_dict(1)
    half = {k: v.to(torch.bfloat16) for k, v in sd.items()}
    inp = tmp_path / "model_ema.safetensors"
    save_file(half, str(inp))
    out = tmp_path / "tiny.safetensors"
    summary = convert_tiny(inp, out)
    assert summary["format"] == cc.FORMAT_SAFETENSORS and summary["input_dtypes"] == ["BF16"]
    assert "note" not in summary
    assert_converted(out, half, inp, cc.FORMAT_SAFETENSORS)


def test_a_safetensors_name_holding_a_pickle_is_read_as_a_pickle(tmp_path):
    sd = tiny_state_dict(2)
    inp = tmp_path / "model_ema.safetensors"
    torch.save(sd, inp)
    assert cc.sniff_format(inp) == cc.FORMAT_TORCH_ZIP
    out = tmp_path / "tiny.safetensors"
    summary = convert_tiny(inp, out)
    assert "named .safetensors but is a torch-zip file" in summary["note"]
    assert_converted(out, sd, inp, cc.FORMAT_TORCH_ZIP)


def test_unwraps_ema_and_reads_rebuild_from_type_v2_tensors(tmp_path):
    sd = tiny_state_dict(3)
    tagged = OrderedDict()
    for k, v in sd.items():
        t = v.clone()
        t.tag = 1            # a tensor with Python state pickles through _rebuild_from_type_v2
        tagged[k] = t
    inp = tmp_path / "ckpt.bin"
    torch.save({"ema": tagged, "model": {"x": torch.zeros(1)}, "step": 7}, inp)
    assert b"_rebuild_from_type_v2" in inp.read_bytes()
    out = tmp_path / "tiny.safetensors"
    summary = convert_tiny(inp, out)
    assert summary["wrapper"] == "ema"
    assert_converted(out, sd, inp, cc.FORMAT_TORCH_ZIP)


def test_legacy_torch_pickle(tmp_path):
    sd = tiny_state_dict(4)
    inp = tmp_path / "old.pt"
    torch.save(sd, inp, _use_new_zipfile_serialization=False)
    assert cc.sniff_format(inp) == cc.FORMAT_TORCH_LEGACY
    out = tmp_path / "tiny.safetensors"
    convert_tiny(inp, out)
    assert_converted(out, sd, inp, cc.FORMAT_TORCH_LEGACY)


def test_failure_leaves_no_file_and_keeps_an_old_output(tmp_path):
    sd = tiny_state_dict(5)
    sd["blocks.1.mlp.fc2.weight"][0, 0] = float("nan")    # found while writing, after the header
    inp = tmp_path / "model_ema.bin"
    torch.save(sd, inp)
    out = tmp_path / "o" / "tiny.safetensors"
    with pytest.raises(cc.ConversionError, match="blocks.1.mlp.fc2.weight.*NaN"):
        convert_tiny(inp, out)
    assert list(out.parent.iterdir()) == []
    out.write_bytes(b"previous")
    with pytest.raises(cc.ConversionError):
        convert_tiny(inp, out)
    assert out.read_bytes() == b"previous" and [p.name for p in out.parent.iterdir()] == ["tiny.safetensors"]


def test_write_is_atomic_when_interrupted(tmp_path, monkeypatch):
    sd = tiny_state_dict(6)
    inp = tmp_path / "model_ema.safetensors"
    save_file(dict(sd), str(inp))
    calls = {"n": 0}
    real = torch.Tensor.contiguous

    def interrupt(self, *a, **k):
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt
        return real(self, *a, **k)

    monkeypatch.setattr(torch.Tensor, "contiguous", interrupt)
    out = tmp_path / "o" / "tiny.safetensors"
    with pytest.raises(KeyboardInterrupt):
        convert_tiny(inp, out)
    assert list(out.parent.iterdir()) == []


def test_recommended_sampling_per_model():
    v1, v2, hr_xl, hr_3b = (cc.recommended_sampling(n, PRESETS[n])
                            for n in ("fitv1-xl", "fitv2-xl", "fitv2-hr-xl", "fitv2-hr-3b"))
    assert (v1["sampler"], v1["steps"], v1["cfg"]) == ("ddpm", 250, 1.5)
    assert (v2["sampler"], v2["steps"], v2["cfg"]) == ("dopri5", 250, 1.5)
    assert cc.recommended_sampling("fitv2-3b", PRESETS["fitv2-3b"]) == v2
    assert (hr_xl["cfg"], hr_3b["cfg"]) == (1.65, 1.6)
    for s in (v1, v2, hr_xl, hr_3b):
        assert (s["interpolation"], s["decouple"], s["ori_max_pe_len"], s["size"]) == ("dynntk", True, 16, "256x256")
        assert set(s) == {"sampler", "steps", "cfg", "scale_pow", "interpolation", "decouple", "ori_max_pe_len", "size"}
    # Sampler names are Swift SamplerKind raw values, interpolation names RoPEInterpolation ones.
    swift = (ROOT / "Sources/FiTKit/Sampling/SamplerKind.swift").read_text()
    rope = (ROOT / "Sources/FiTKit/Model/RoPEInterpolation.swift").read_text()
    for s in (v1, v2):
        assert f"case {s['sampler']}" in swift and f"case {s['interpolation']}" in rope


# ----------------------------------------------------------------------------------------------
# command line
# ----------------------------------------------------------------------------------------------

def test_cli_errors_are_one_line(tmp_path, capsys):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"hello, this is not a checkpoint")
    assert cc.main([str(junk), str(tmp_path / "o.safetensors")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "neither safetensors nor" in err

    sd = tiny_state_dict(7)
    inp = tmp_path / "model_ema.bin"
    torch.save(sd, inp)   # a tiny model is not a released one
    assert cc.main([str(inp), str(tmp_path / "o.safetensors")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: not a released FiT model (closest: ") and err.count("\n") == 1
    assert cc.main([str(tmp_path / "absent.bin"), str(tmp_path / "o.safetensors")]) == 1
    assert "no such file" in capsys.readouterr().err
    assert cc.main([str(inp), str(inp)]) == 1
    assert "replace the input" in capsys.readouterr().err
    assert not (tmp_path / "o.safetensors").exists()


# ----------------------------------------------------------------------------------------------
# VAE
# ----------------------------------------------------------------------------------------------

SMALL_VAE = {"_class_name": "AutoencoderKL", "block_out_channels": [32, 64], "layers_per_block": 1,
             "latent_channels": 4, "norm_num_groups": 8, "out_channels": 3, "act_fn": "silu",
             "up_block_types": ["UpDecoderBlock2D"] * 2, "sample_size": 64}


def test_sd_vae_decoder_counts():
    keys = vae_ref.decoder_state_dict_keys(vae_ref.SD_VAE_FT_EMA)
    assert (len(keys), sum(cc.numel(s) for s in keys.values())) == cc.SD_VAE_DECODER_COUNTS


def fake_diffusers_vae(config: dict, legacy: bool, seed: int = 0):
    """A diffusers-layout VAE state dict: encoder junk plus the decoder, attention under legacy names."""
    g = torch.Generator().manual_seed(seed)
    decoder = vae_ref.decoder_state_dict_keys(vae_ref.VAEConfig.from_dict(config))
    sd = OrderedDict()
    sd["encoder.conv_in.weight"] = torch.randn(32, 3, 3, 3, generator=g)
    sd["quant_conv.weight"] = torch.randn(8, 8, 1, 1, generator=g)
    want = OrderedDict()
    rename = {"to_q": "query", "to_k": "key", "to_v": "value", "to_out.0": "proj_attn"}
    for k, shape in decoder.items():
        t = torch.randn(*shape, generator=g)
        want[k] = t
        name = k
        if legacy and ".attentions." in k:
            for new, old in rename.items():
                if f".{new}." in k:
                    name = k.replace(f".{new}.", f".{old}.")
                    if k.endswith("weight"):
                        t = t.reshape(*shape, 1, 1)
        sd[name] = t
    return sd, want


def test_vae_conversion_with_legacy_names(tmp_path):
    folder = tmp_path / "vae"
    folder.mkdir()
    sd, want = fake_diffusers_vae(SMALL_VAE, legacy=True)
    assert any(k.endswith("proj_attn.weight") and v.dim() == 4 for k, v in sd.items())
    save_file(dict(sd), str(folder / "diffusion_pytorch_model.safetensors"))
    (folder / "config.json").write_text(json.dumps(SMALL_VAE))
    out = tmp_path / "vae-decoder.safetensors"
    summary = cc.convert_vae(folder, out)   # the folder: weights + config.json beside them
    assert summary["tensors"] == len(want) and summary["dropped"] == 2
    assert summary["legacy_attention_renamed"] == 8
    with safe_open(str(out), framework="pt") as f:
        meta = f.metadata()
        assert sorted(f.keys()) == sorted(want)
        for k, t in want.items():
            assert torch.equal(f.get_tensor(k), t), k
    cfg = json.loads(meta["vae_config"])
    assert cfg["block_out_channels"] == [32, 64] and cfg["scaling_factor"] == 0.18215 and cfg["sample_size"] == 64
    assert json.loads(meta["fit_source"])["kind"] == "vae-decoder"
    vae_ref.load_vae(out)   # the reference decoder loads the result strictly


def test_vae_from_a_bin_with_module_prefix_and_explicit_config(tmp_path):
    sd, want = fake_diffusers_vae(SMALL_VAE, legacy=False, seed=1)
    inp = tmp_path / "diffusion_pytorch_model.bin"
    torch.save(OrderedDict(("module." + k, v) for k, v in sd.items()), inp)
    config = tmp_path / "elsewhere.json"
    config.write_text(json.dumps(SMALL_VAE))
    out = tmp_path / "d.safetensors"
    count = (len(want), sum(t.numel() for t in want.values()))
    assert cc.convert_vae(inp, out, config, expected_counts=count)["tensors"] == len(want)
    assert sorted(load_file(str(out))) == sorted(want)
    with pytest.raises(cc.ConversionError, match="expected"):
        cc.convert_vae(inp, tmp_path / "e.safetensors", config, expected_counts=(count[0], count[1] + 1))
    assert not (tmp_path / "e.safetensors").exists()


def test_vae_refuses_a_mismatch_and_cli_wants_vae_flags(tmp_path, capsys):
    sd, _ = fake_diffusers_vae(SMALL_VAE, legacy=False, seed=2)
    inp = tmp_path / "diffusion_pytorch_model.safetensors"
    save_file(dict(sd), str(inp))   # no config.json: the sd-vae-ft-ema shape is expected
    assert cc.main(["--vae", str(inp), str(tmp_path / "o.safetensors")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "mis-shaped" in err
    assert cc.main([str(inp), str(tmp_path / "o.safetensors"), "--config", str(inp)]) == 1
    assert "--config is for --vae" in capsys.readouterr().err
    assert not (tmp_path / "o.safetensors").exists()
    os.remove(inp)
