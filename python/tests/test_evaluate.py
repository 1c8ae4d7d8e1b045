"""Fast tests of python/evaluate.py (classifier data pipeline, scoring, tables, batched sampling)
and python/make_samples.py (sheet layout, the fit command plumbing with a stub binary).

Run from the repository root:  .venv/bin/python -m pytest python/tests/test_evaluate.py -q
FIT_SLOW_TESTS=1 also runs the slow check (classifier on the real dataset cache).
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path
from typing import Tuple

import numpy as np
import pytest
import torch

PY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PY))

import emoji_dataset as ED  # noqa: E402
import evaluate as E  # noqa: E402
import make_samples as M  # noqa: E402
from fit_reference import FiT  # noqa: E402
from fit_reference import sampling as S  # noqa: E402

SLOW = os.environ.get("FIT_SLOW_TESTS") == "1"


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors: one torch thread (several threads spin-wait on a loaded 2-core machine)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def fake_data(n_per_class: int = 4, side: int = 64, seed: int = 0) -> dict:
    """A dataset dict like emoji_dataset.load(): one coloured disc per class colour."""
    rng = np.random.default_rng(seed)
    C = len(ED.CLASS_NAMES)
    labels = np.repeat(np.arange(C), n_per_class).astype(np.int16)
    images = np.full((len(labels), side, side, 3), 255, np.uint8)
    yy, xx = np.mgrid[:side, :side]
    disc = (yy - side / 2) ** 2 + (xx - side / 2) ** 2 < (side / 3) ** 2
    for i, c in enumerate(labels):
        colour = np.array([(37 * c) % 256, (91 * c + 40) % 256, (53 * c + 90) % 256], np.uint8)
        images[i][disc] = colour
        images[i] = np.clip(images[i].astype(int) + rng.integers(-5, 6, images[i].shape), 0, 255)
    split = np.zeros(len(labels), np.uint8)
    split[::n_per_class] = 1
    return dict(images=images, labels=labels, split=split,
                class_names=np.asarray(ED.CLASS_NAMES, dtype=str))


# ----------------------------------------------------------------------------------------------
# data pipeline
# ----------------------------------------------------------------------------------------------

def test_center_square_crops_the_middle():
    img = np.zeros((32, 64, 3), np.uint8)
    img[:, 16:48] = 200
    sq = E.center_square(img)
    assert sq.shape == (32, 32, 3) and (sq == 200).all()
    tall = np.arange(64 * 32 * 3, dtype=np.int64).reshape(64, 32, 3)
    assert np.array_equal(E.center_square(tall), tall[16:48])


def test_classifier_images_sizes():
    a = np.full((3, 32, 32, 3), 7, np.uint8)
    assert np.array_equal(E.classifier_images(a), a)                 # training size: untouched
    b = E.classifier_images(np.full((2, 48, 48, 3), 9, np.uint8))    # resized
    assert b.shape == (2, 32, 32, 3) and (b == 9).all()
    c = E.classifier_images(np.full((2, 32, 64, 3), 5, np.uint8))    # centre crop
    assert c.shape == (2, 32, 32, 3)
    mixed = E.classifier_images([np.zeros((32, 32, 3), np.uint8), np.zeros((40, 24, 3), np.uint8)])
    assert mixed.shape == (2, 32, 32, 3)


def test_pixel_mapping_round_trip_and_range():
    u = np.arange(256, dtype=np.uint8).repeat(3).reshape(1, 16, 16, 3)
    x = E.to_tensor(u)
    assert x.shape == (1, 3, 16, 16) and float(x.min()) == -1.0 and float(x.max()) == 1.0
    assert np.array_equal(E.to_uint8(x), u)
    # the project's mapping: clamp(127.5 x + 128), truncated
    y = E.to_uint8(torch.tensor([-2.0, -1.0, 0.0, 0.999, 1.0, 3.0]).view(1, 1, 1, 6).expand(1, 3, 1, 6))
    assert y[0, 0, :, 0].tolist() == [0, 0, 128, 255, 255, 255]


def test_split_arrays_uses_train_and_eval_split():
    d = fake_data()
    tx, ty = E.split_arrays(d, 0)
    ex, ey = E.split_arrays(d, 1)
    assert tx.shape == (45, 32, 32, 3) and ex.shape == (15, 32, 32, 3)
    assert tx.dtype == np.uint8 and ty.dtype == np.int64
    assert sorted(ey.tolist()) == list(range(15))
    assert np.bincount(ty).tolist() == [3] * 15


def test_augment_is_seeded_and_keeps_range():
    x = E.to_tensor(fake_data(1)["images"][:4, ::2, ::2])
    r = dict(E.CLASSIFIER_RECIPE)
    a = E.augment(x, r, torch.Generator().manual_seed(3))
    b = E.augment(x, r, torch.Generator().manual_seed(3))
    c = E.augment(x, r, torch.Generator().manual_seed(4))
    assert a.shape == x.shape and torch.equal(a, b) and not torch.equal(a, c)
    assert float(a.min()) >= -1.0 and float(a.max()) <= 1.0
    # identity settings leave the image alone (white padding never shows)
    ident = dict(r, aug_scale=(1.0, 1.0), aug_shift_px=0.0, aug_flip=0.0, aug_blur=0.0, aug_noise=0.0)
    assert torch.allclose(E.augment(x, ident, torch.Generator().manual_seed(0)), x, atol=1e-5)
    # a shrunk image has a white border
    small = dict(ident, aug_scale=(0.5, 0.5))
    y = E.augment(-torch.ones_like(x), small, torch.Generator().manual_seed(0))
    assert torch.allclose(y[..., :6, :], torch.ones_like(y[..., :6, :]), atol=1e-5)
    assert torch.allclose(y[..., 12:20, 12:20], -torch.ones(1), atol=1e-5)


def test_classifier_shapes():
    m = E.SmallCNN((8, 12, 16))
    assert m(torch.zeros(5, 3, 32, 32)).shape == (5, 15)
    pred, prob = E.predict(m, np.full((3, 48, 48, 3), 255, np.uint8))
    assert pred.shape == (3,) and prob.shape == (3, 15)
    assert np.allclose(prob.sum(1), 1.0, atol=1e-5)


def test_classifier_training_is_deterministic_and_cached(tmp_path):
    d = fake_data(3)
    recipe = dict(E.CLASSIFIER_RECIPE, widths=(8, 8, 16), epochs=1, batch=16, threads=1)
    logs = []
    m1, info1 = E.load_or_train_classifier(d, tmp_path, recipe=recipe, log=logs.append)
    files = list(tmp_path.glob("classifier-*.safetensors"))
    assert len(files) == 1 and info1["train_images"] == 30 and info1["eval_images"] == 15
    m2, info2 = E.load_or_train_classifier(d, tmp_path, recipe=recipe, log=logs.append)
    assert info2 == info1 and any("cached" in s for s in logs)
    for (k, a), (_, b) in zip(m1.state_dict().items(), m2.state_dict().items()):
        assert torch.equal(a, b), k
    m3 = E.train_classifier(*E.split_arrays(d, 0), recipe, log=lambda s: None)
    for (k, a), (_, b) in zip(m1.state_dict().items(), m3.state_dict().items()):
        assert torch.equal(a, b), k
    # another recipe is another cache entry
    E.load_or_train_classifier(d, tmp_path, recipe=dict(recipe, seed=9), log=logs.append)
    assert len(list(tmp_path.glob("classifier-*.safetensors"))) == 2


# ----------------------------------------------------------------------------------------------
# noise baseline, scoring, tables
# ----------------------------------------------------------------------------------------------

def test_noise_baseline_shape_and_seed():
    classes, seeds = E.sample_plan(3, 10)
    n = E.noise_images(len(classes), 32, 32, seed=5)
    assert n.shape == (45, 32, 32, 3) and n.dtype == np.uint8
    assert np.array_equal(n, E.noise_images(45, 32, 32, seed=5))
    assert not np.array_equal(n, E.noise_images(45, 32, 32, seed=6))
    assert 100 < n.mean() < 156 and (n == 0).any() and (n == 255).any()
    assert E.noise_images(2, 32, 64, 0).shape == (2, 32, 64, 3)


def test_sample_plan_order():
    classes, seeds = E.sample_plan(2, 7)
    assert classes.tolist()[:4] == [0, 0, 1, 1] and len(classes) == 30
    assert seeds.tolist()[:4] == [7, 8, 7, 8]


def test_class_shares():
    labels = np.array([0, 0, 1, 1, 2, 2, 2, 2])
    pred = np.array([0, 1, 1, 1, 0, 2, 2, 2])
    r = E.class_shares(pred, labels)
    assert r["per_class"][:3] == [0.5, 1.0, 0.75] and r["per_class"][3] is None
    assert r["counts"][:4] == [2, 2, 4, 0]
    assert r["overall"] == pytest.approx((0.5 + 1.0 + 0.75) / 3)
    assert r["micro"] == pytest.approx(6 / 8)


def test_format_table_columns_and_values():
    r = E.class_shares(np.arange(15), np.arange(15))
    z = E.class_shares(np.zeros(15, int), np.arange(15))
    md = E.format_table([("real held-out", r), ("noise", z)])
    lines = md.splitlines()
    assert len(lines) == 4
    head = [c.strip() for c in lines[0].strip("|").split("|")]
    assert head == ["images", "overall"] + list(ED.CLASS_NAMES)
    assert lines[1].count("|") == 18
    cells = [c.strip() for c in lines[2].strip("|").split("|")]
    assert cells[0] == "real held-out" and cells[1] == "**100**" and cells[2:] == ["100"] * 15
    cells = [c.strip() for c in lines[3].strip("|").split("|")]
    assert cells[1] == "**7**" and cells[2] == "100" and cells[3:] == ["0"] * 14
    missing = dict(r, per_class=[None] + r["per_class"][1:])
    assert "| – |" in E.format_table([("x", missing)])
    extra = E.format_extra_table([("a", dict(blank=0.25, diversity=0.1234, copies=0.0125, nearest=0.2, seconds=3.2))])
    assert "| a | 25 % | 0.123 | 1.2 % | 0.200 | 3 |" in extra


def test_ink_share_and_diversity():
    white = np.full((2, 32, 32, 3), 255, np.uint8)
    half = white.copy()
    half[:, :16] = 0
    assert E.ink_share(white).tolist() == [0.0, 0.0]
    assert E.ink_share(half).tolist() == [0.5, 0.5]
    same = np.concatenate([half, half])
    assert E.diversity(same, np.array([0, 0, 1, 1])) == 0.0
    assert E.diversity(np.concatenate([white, half]), np.array([0, 1, 0, 1])) > 0.5


def test_contact_sheet_layout():
    imgs = np.zeros((6, 8, 8, 3), np.uint8)
    sheet = E.contact_sheet(imgs, per_class=3, scale=2, pad=1)
    assert sheet.shape == (2 * (2 * 9 + 1), 2 * (3 * 9 + 1), 3)


def test_parse_hw_and_rope_modes():
    assert E.parse_hw("32x64") == (32, 64) and E.parse_hw("48×48") == (48, 48)
    assert E.rope_overrides({"context_size": 144}, "visionntk") == dict(
        custom_freqs="ntk-aware", decouple=True, ori_max_pe_len=12)
    assert E.rope_overrides({"context_size": 64}, "plain")["custom_freqs"] == "normal"


def test_auto_mode_follows_the_checkpoint_recommendation():
    info = dict(config=dict(patch_size=1, context_size=144), vae_factor=4,
                sampling=dict(interpolation="no", extrapolation=dict(
                    interpolation="dynntk", decouple=True, trained_tokens=144, trained_side=16)))
    assert E.auto_mode(info, 32, 32) == "plain"
    assert E.auto_mode(info, 48, 48) == "plain"          # 144 tokens: trained
    assert E.auto_mode(info, 32, 64) == "plain"          # 8x16: trained side
    assert E.auto_mode(info, 64, 64) == "visionntk"      # 256 tokens
    assert E.auto_mode(info, 16, 80) == "visionntk"      # side 20 > 16
    assert E.auto_mode(dict(info, sampling={}), 64, 64) == "plain"   # no recommendation: plain


def test_nearest_training_rms_finds_copies_and_mirrors():
    g = np.random.default_rng(0)
    train = g.integers(0, 256, (5, 32, 32, 3), dtype=np.uint8)
    samples = np.stack([train[2], train[4][:, ::-1], np.full((32, 32, 3), 255, np.uint8)])
    d = E.nearest_training_rms(samples, train)
    assert d[0] < 1e-3 and d[1] < 1e-3 and d[2] > 0.2


# ----------------------------------------------------------------------------------------------
# batched sampling = fit generate's batch of one
# ----------------------------------------------------------------------------------------------

def tiny_fit(**kw) -> FiT:
    torch.manual_seed(0)
    cfg = dict(context_size=64, patch_size=4, in_channels=3, hidden_size=32, depth=1, num_heads=2,
               num_classes=15, learn_sigma=False, use_sit=True, use_swiglu=True, adaln_type="lora",
               adaln_lora_dim=8, q_norm="layernorm", k_norm="layernorm")
    cfg.update(kw)
    m = FiT(**cfg).eval()
    with torch.no_grad():   # the official init zeroes the output layers; make them matter
        for p in m.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return m


@pytest.mark.parametrize("sampler,cfg", [("euler", 2.0), ("heun", 1.0), ("sde", 2.0)])
def test_generate_matches_one_image_sampling(sampler, cfg):
    m = tiny_fit()
    classes, seeds = [3, 3, 7], [0, 1, 5]
    got = E.generate(m, classes, seeds, 16, 24, sampler, steps=3, cfg=cfg, batch=2)
    assert got.shape == (3, 16, 24, 3) and got.dtype == np.uint8
    for i, (c, s) in enumerate(zip(classes, seeds)):
        tr = S.sample(m, sampler, classes=[c], h=4, w=6, seed=s, steps=3, cfg_scale=cfg)
        ref = E.to_uint8(tr.sample)[0]
        assert np.abs(got[i].astype(int) - ref.astype(int)).max() <= 1


def test_generate_rejects_sizes_off_the_patch_grid():
    with pytest.raises(ValueError):
        E.generate(tiny_fit(), [0], [0], 30, 32)


def test_generate_decodes_latents_with_the_vae():
    from fit_reference.vae import VAEConfig, VAEDecoder
    torch.manual_seed(1)
    vae = VAEDecoder(VAEConfig(block_out_channels=(8, 8, 16), layers_per_block=1, norm_num_groups=4,
                               mid_block_add_attention=False, scaling_factor=0.5)).eval()
    m = tiny_fit(patch_size=1, in_channels=4)
    got = E.generate(m, [2], [3], 16, 24, "euler", steps=2, cfg=2.0, vae=vae)
    assert got.shape == (1, 16, 24, 3)
    tr = S.sample(m, "euler", classes=[2], h=4, w=6, seed=3, steps=2, cfg_scale=2.0)
    with torch.no_grad():
        ref = E.to_uint8(vae.decode(tr.sample))[0]
    assert np.abs(got[0].astype(int) - ref.astype(int)).max() <= 1
    with pytest.raises(ValueError):
        E.generate(m, [0], [0], 18, 24, vae=vae)           # 18 px is not a multiple of 4


# ----------------------------------------------------------------------------------------------
# make_samples.py
# ----------------------------------------------------------------------------------------------

def test_make_samples_helpers():
    assert M.parse_size("24x40") == (24, 40)
    advice = dict(pixels_per_token=4, extrapolation=dict(trained_tokens=144, trained_side=16))
    assert not M.beyond_training("40x24", advice) and not M.beyond_training("64x32", advice)
    assert M.beyond_training("64x64", advice) and M.beyond_training("80x16", advice)
    assert not M.beyond_training("64x64", dict(pixels_per_token=4))     # no advice: never
    a = np.zeros((8, 8, 3), np.uint8)
    b = np.zeros((4, 12, 3), np.uint8)
    sheet = M.compose([[a, b], [b, None]], scale=2, pad=1)
    assert sheet.size == (2 * (2 * 13) + 2, 2 * (2 * 9) + 2)   # boxes of 8x12 px, gaps of 1 px
    labelled = M.compose([[a]], scale=2, row_labels=["smiley"], col_labels=["8x8"], title="t")
    assert labelled.size[0] > 20 and labelled.size[1] > 20


STUB = r'''#!{python}
"""Stand-in for `fit generate`: writes flat PNGs of the requested size, records its argv."""
import json, sys
from pathlib import Path
from PIL import Image
a = sys.argv[1:]
assert a[0] == "generate"
def opt(name, default=None):
    return a[a.index(name) + 1] if name in a else default
with open({log!r}, "a") as f:
    f.write(json.dumps(a) + "\n")
w, h = (int(v) for v in opt("--size", "32x32").split("x"))
seed, count, out = int(opt("--seed", "0")), int(opt("--count", "1")), Path(opt("--out"))
if not out.parent.is_dir():
    sys.exit("folder missing")
meta = {{"parameters": json.dumps({{"sampler": "euler", "steps": 4, "cfg": 3}})}}
from PIL import PngImagePlugin
info = PngImagePlugin.PngInfo()
info.add_text("parameters", meta["parameters"])
outs = [out] if count == 1 else [out.with_name(f"{{out.stem}}-{{seed + i}}.png") for i in range(count)]
for p in outs:
    Image.new("RGB", (w, h), (seed * 40 % 256, 0, 0)).save(p, pnginfo=info)
if opt("--trajectory"):
    d = Path(opt("--trajectory")); d.mkdir(parents=True, exist_ok=True)
    for k in range(4):
        for kind in ("xt", "x0"):
            Image.new("RGB", (w, h), (0, 60 * k, 0)).save(d / f"step-{{k:03d}}-{{kind}}.png")
if opt("--sheet"):
    Image.new("RGB", (4 * w, 2 * h)).save(opt("--sheet"))
'''


def stub_fit(tmp_path: Path) -> Tuple[Path, Path]:
    """An executable stand-in for `fit` in tmp_path and the file its calls are logged to."""
    log = tmp_path / "argv.jsonl"
    stub = tmp_path / "fit"
    stub.write_text(STUB.format(python=sys.executable, log=str(log)))
    stub.chmod(stub.stat().st_mode | stat.S_IEXEC)
    return stub, log


def test_make_samples_with_a_stub_fit(tmp_path):
    stub, log = stub_fit(tmp_path)
    out = tmp_path / "sheets"
    model = tmp_path / "m.safetensors"
    from safetensors.torch import save_file
    save_file({"x": torch.zeros(1)}, str(model), metadata={
        "fit_config": json.dumps(dict(patch_size=1, in_channels=4)),
        "vae_config": json.dumps(dict(block_out_channels=[8, 8, 8])),
        "fit_sampling": json.dumps(dict(extrapolation=dict(interpolation="dynntk", decouple=True,
                                                           trained_tokens=144, trained_side=16)))})
    rc = M.main(["--fit", str(stub), "--model", str(model), "--quick", "--out-dir", str(out),
                 "--cfg", "2.5", "--steps", "7", "--scale", "2"])
    assert rc == 0
    for name in ("classes", "aspect-ratios", "extrapolation", "trajectory"):
        assert (out / f"{name}.png").is_file(), name
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert all(c[c.index("--model") + 1] == str(model) for c in calls)
    assert all(c[c.index("--cfg") + 1] == "2.5" and c[c.index("--steps") + 1] == "7" for c in calls)
    counts = [c for c in calls if "--count" in c]
    assert len(counts) == 4 and all(c[c.index("--count") + 1] == "2" for c in counts)   # 4 classes x 2 seeds
    aspect = [c for c in calls if "aspect" in c[c.index("--out") + 1]]
    assert {c[c.index("--size") + 1] for c in aspect} == {"32x32", "24x40", "32x64", "64x64"}
    assert not any("--interpolation" in c for c in aspect)         # fit picks RoPE itself
    interps = {c[c.index("--interpolation") + 1] for c in calls if "--interpolation" in c and
               c[c.index("--size") + 1] in ("64x64", "80x40")}
    assert interps == {"no", "dynntk", "yarn", "ntkpro2"}
    assert sum("--trajectory" in c for c in calls) == 1
    # the embedded model is used when --model is omitted
    log.unlink()
    assert M.main(["--fit", str(stub), "--quick", "--out-dir", str(out), "--only", "classes"]) == 0
    assert all("--model" not in json.loads(line) for line in log.read_text().splitlines())


def test_generate_with_fit_calls_fit_per_run_of_seeds(tmp_path):
    stub, log = stub_fit(tmp_path)
    model = tmp_path / "m.safetensors"
    got = E.generate_with_fit(stub, model, [3, 3, 7], [0, 1, 5], 16, 24, "visionyarn", "euler", 30, 4.0,
                              "bf16", 2, vae=tmp_path / "vae.safetensors")
    assert got.shape == (3, 16, 24, 3) and got.dtype == np.uint8
    assert [int(v) for v in got[:, 0, 0, 0]] == [0, 0, 200]         # the stub paints its --seed x 40
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(calls) == 2                                          # class 3 seeds 0-1, class 7 seed 5
    first, second = calls
    assert first[first.index("--count") + 1] == "2" and second[second.index("--count") + 1] == "1"
    assert second[second.index("--seed") + 1] == "5" and second[second.index("--class") + 1] == "7"
    for c in calls:
        assert c[c.index("--size") + 1] == "24x16" and c[c.index("--precision") + 1] == "bf16"
        assert c[c.index("--interpolation") + 1] == "yarn" and "--decouple" in c
        assert c[c.index("--model") + 1] == str(model) and c[c.index("--vae") + 1] == str(tmp_path / "vae.safetensors")
    broken = tmp_path / "broken"
    broken.write_text("#!/bin/sh\necho 'no such class' >&2\nexit 3\n")
    broken.chmod(0o755)
    with pytest.raises(RuntimeError, match="no such class"):
        E.generate_with_fit(broken, model, [0], [0], 16, 16, "plain", "euler", 3, 1.0, "fp32", 1)


# ----------------------------------------------------------------------------------------------
# slow: the real dataset
# ----------------------------------------------------------------------------------------------

@pytest.mark.skipif(not SLOW, reason="set FIT_SLOW_TESTS=1 (trains/loads the classifier on the real data)")
def test_classifier_on_the_real_dataset():
    if not ED.DEFAULT_OUT.is_file():
        pytest.skip("python/data/emoji-64.npz not built")
    data = ED.load()
    clf, info = E.load_or_train_classifier(data)
    ex, ey = E.split_arrays(data, 1)
    pred, _ = E.predict(clf, ex)
    r = E.class_shares(pred, ey)
    assert r["micro"] > 0.7 and r["overall"] > 0.5
    classes, _ = E.sample_plan(8, 0)
    noise = E.class_shares(E.predict(clf, E.noise_images(len(classes), 32, 32, 0))[0], classes)
    assert noise["overall"] < 0.25
