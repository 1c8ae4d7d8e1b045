"""Tests of the emoji dataset builder and the embedded-model training script.

Run from the repository root:  .venv/bin/python -m pytest python/tests/test_dataset.py -q
The builder test is skipped when fonts-noto-color-emoji / unicode-data / Pillow are missing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

PY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PY))

import emoji_dataset as ED  # noqa: E402
import train as T  # noqa: E402
from fit_reference import FiT, image_to_tokens  # noqa: E402

HAVE_FONT = any(Path(p).is_file() for p in ED.FONT_PATHS)
HAVE_EMOJI_TEST = any(Path(p).is_file() for p in ED.EMOJI_TEST_PATHS)
try:
    import PIL  # noqa: F401
    HAVE_PIL = True
except ImportError:  # pragma: no cover
    HAVE_PIL = False


# ----------------------------------------------------------------------------------------------
# classes and mapping
# ----------------------------------------------------------------------------------------------

def test_class_names_exact_order():
    assert ED.CLASS_NAMES == ("smiley", "heart", "person", "hand", "animal", "plant", "food",
                              "vehicle", "building", "sky-weather", "clock", "flag", "symbol",
                              "object", "activity")


@pytest.mark.parametrize("group,subgroup,cls", [
    ("Smileys & Emotion", "face-smiling", "smiley"),
    ("Smileys & Emotion", "face-concerned", "smiley"),
    ("Smileys & Emotion", "face-costume", None),        # excluded before face-*
    ("Smileys & Emotion", "emotion", None),             # no rule
    ("Smileys & Emotion", "heart", "heart"),
    ("Smileys & Emotion", "cat-face", "animal"),        # not face-*: prefix match only
    ("Smileys & Emotion", "monkey-face", "animal"),
    ("People & Body", "person-role", "person"),
    ("People & Body", "family", "person"),
    ("People & Body", "person-symbol", "person"),
    ("People & Body", "hand-fingers-open", "hand"),
    ("People & Body", "hand-prop", "hand"),
    ("People & Body", "hands", "hand"),
    ("People & Body", "body-parts", "hand"),
    ("Component", "skin-tone", None),
    ("Animals & Nature", "animal-bird", "animal"),
    ("Animals & Nature", "plant-flower", "plant"),
    ("Food & Drink", "drink", "food"),
    ("Food & Drink", "dishware", "food"),
    ("Travel & Places", "transport-air", "vehicle"),
    ("Travel & Places", "place-religious", "building"),
    ("Travel & Places", "hotel", "building"),
    ("Travel & Places", "sky & weather", "sky-weather"),
    ("Travel & Places", "time", "clock"),
    ("Symbols", "transport-sign", "symbol"),            # not a transport-ground/air/water
    ("Flags", "country-flag", "flag"),
    ("Objects", "clothing", "object"),
    ("Activities", "sport", "activity"),
])
def test_mapping(group, subgroup, cls):
    assert ED.classify(group, subgroup) == cls


def test_first_match_wins():
    # rules apply in the order, whichever kind they are
    assert ED.classify("Activities", "person-sport") == "person"   # person before group Activities
    assert ED.classify("Objects", "heart") == "heart"              # heart before group Objects
    assert ED.classify("Food & Drink", "time") == "food"           # group Food & Drink before time
    assert ED.classify("Flags", "time") == "clock"                 # time before group Flags
    # face-costume stays dropped whatever the group
    assert ED.classify("Objects", "face-costume") is None


def test_unknown_class_lists_names():
    assert ED.class_index("flag") == 11
    with pytest.raises(ValueError) as e:
        ED.class_index("dinosaur")
    for name in ED.CLASS_NAMES:
        assert name in str(e.value)


def test_parse_emoji_test_fully_qualified_only():
    text = """# group: Smileys & Emotion

# subgroup: face-smiling
1F600                                                  ; fully-qualified     # 😀 E1.0 grinning face
263A FE0F                                              ; fully-qualified     # ☺️ E0.6 smiling face
263A                                                   ; unqualified         # ☺ E0.6 smiling face

# subgroup: heart
2764 FE0F                                              ; fully-qualified     # ❤️ E0.6 red heart
# group: Component
1F3FB                                                  ; component           # 🏻 E1.0 light skin tone
"""
    es = ED.parse_emoji_test(text)
    assert [e.key for e in es] == ["1F600", "263A FE0F", "2764 FE0F"]
    assert es[0].name == "grinning face" and es[0].subgroup == "face-smiling"
    assert es[2].group == "Smileys & Emotion" and es[2].subgroup == "heart"
    assert es[1].text == "\u263a\ufe0f"


def test_missing_packages_are_named(tmp_path):
    with pytest.raises(ED.MissingPackageError, match="unicode-data"):
        ED.build(emoji_test=str(tmp_path / "nope.txt"), verbose=False)
    if HAVE_EMOJI_TEST:
        with pytest.raises(ED.MissingPackageError, match="fonts-noto-color-emoji"):
            ED.build(font=str(tmp_path / "nope.ttf"), verbose=False)
    assert ED.main(["--emoji-test", str(tmp_path / "nope.txt"), "--out", str(tmp_path / "x.npz")]) == 2


def test_eval_split_deterministic_stratified():
    keys = [f"{i:05X}" for i in range(200)]
    labels = [i % 4 for i in range(200)]
    a = ED.eval_split(keys, labels)
    b = ED.eval_split(list(reversed(keys)), list(reversed(labels)))[::-1]
    assert (a == b).all()                              # depends on the keys, not their order
    for c in range(4):
        assert a[np.array(labels) == c].sum() == 5     # 10 % of 50


def test_place_center_pad_and_crop():
    art = np.arange(8 * 8 * 3, dtype=np.float32).reshape(8, 8, 3)
    c = ED.place_center(art, 6, 12, fill=-1.0)
    assert c.shape == (6, 12, 3)
    assert (c[:, :2] == -1).all() and (c[:, 10:] == -1).all()   # padded columns
    assert (c[:, 2:10] == art[1:7]).all()                        # centre-cropped rows
    assert ED.art_side(24, 40, False) == 24 and ED.art_side(24, 40, True) == 31


# ----------------------------------------------------------------------------------------------
# packing, masks, loss
# ----------------------------------------------------------------------------------------------

def _imgs():
    g = np.random.default_rng(0)
    return [g.uniform(-1, 1, (h, w, 3)).astype(np.float32) for h, w in [(32, 32), (24, 40), (16, 32)]]


def test_pack_masks_and_grid():
    imgs = _imgs()
    x, grid, mask, size = T.pack(imgs, 4, 64)
    assert x.shape == (3, 64, 48) and grid.shape == (3, 2, 64) and mask.shape == (3, 64)
    assert mask.sum(1).tolist() == [64, 60, 32]
    assert size.tolist() == [[8, 8], [6, 10], [4, 8]]
    for b, im in enumerate(imgs):
        n = int(mask[b].sum())
        assert (mask[b, n:] == 0).all() and (x[b, n:] == 0).all() and (grid[b, :, n:] == 0).all()
        ref = image_to_tokens(torch.from_numpy(im).permute(2, 0, 1)[None], 4)[0]
        assert torch.equal(x[b, :n], ref)
        h, w = size[b].tolist()
        assert grid[b, 0, :n].max() == w - 1 and grid[b, 1, :n].max() == h - 1
    # the batch is trimmed to its longest sequence
    x2, _, m2, _ = T.pack(imgs[1:], 4, 64)
    assert x2.shape[1] == 60 and m2.shape[1] == 60
    with pytest.raises(ValueError):
        T.pack(imgs, 4, 32)


def test_masked_loss_ignores_padding():
    x, grid, mask, _ = T.pack(_imgs(), 4, 64)
    g = torch.Generator().manual_seed(1)
    xt, t, u = T.flow_inputs(x, mask, g)
    assert (xt[mask == 0] == 0).all() and (u[mask == 0] == 0).all()
    pred = torch.randn(u.shape, generator=g)
    loss = T.masked_flow_loss(pred, u, mask)
    pred2 = pred.clone()
    pred2[mask == 0] = 1e3                      # garbage on padded tokens
    assert torch.allclose(loss, T.masked_flow_loss(pred2, u, mask))
    # equals the plain MSE over each sample's valid tokens (x N / N_valid), averaged over samples
    per = [((pred[b, mask[b] > 0] - u[b, mask[b] > 0]) ** 2).mean() for b in range(3)]
    assert torch.allclose(loss, torch.stack(per).mean(), rtol=1e-5)


def _tiny_model_cfg():
    r = T.load_recipe(PY / "recipes" / "embedded.json")
    cfg = dict(r["model"])
    cfg.update(hidden_size=32, depth=2, num_heads=2, adaln_lora_dim=8)
    return cfg


def test_padding_does_not_change_valid_outputs():
    torch.manual_seed(0)
    model = FiT(**_tiny_model_cfg()).eval()
    T.initialize_weights(model)
    for p in model.parameters():                # adaLN-Zero makes everything 0: randomise
        p.data.normal_(0, 0.2)
    g = np.random.default_rng(0)
    latents = [g.normal(size=(h, w, 4)).astype(np.float32) for h, w in [(8, 8), (6, 10), (4, 8)]]
    x, grid, mask, size = T.pack(latents, 1, 144)
    t = torch.tensor([0.3, 0.6, 0.9])
    y = torch.tensor([0, 5, 14])
    with torch.no_grad():
        out = model(x, t, y, grid, mask, size)
        assert (out[mask == 0] == 0).all()
        for b in range(3):
            n = int(mask[b].sum())
            alone = model(x[b:b + 1, :n], t[b:b + 1], y[b:b + 1], grid[b:b + 1, :, :n], None)
            assert torch.allclose(out[b, :n], alone[0], atol=1e-5)


def test_recipe_is_valid_and_small():
    r = T.load_recipe(PY / "recipes" / "embedded.json")
    cfg = T.full_config(r["model"])
    assert cfg["use_sit"] and not cfg["learn_sigma"] and cfg["adaln_type"] == "lora"
    assert cfg["in_channels"] == 4 and cfg["patch_size"] == 1 and cfg["num_classes"] == 15
    with torch.device("meta"):
        n = T.count_params(FiT(**r["model"]))
    assert n <= 10_000_000                         # F16 with the VAE decoder <= 25 MB
    assert T.lr_at(r, 0) < r["optimizer"]["lr"] and T.lr_at(r, r["steps"] // 2) == r["optimizer"]["lr"]
    # every size of every stage fits the token budget of its batches and the context
    for st in r["stages"]:
        for h, w, _ in st["sizes"]:
            assert (h // 4) * (w // 4) <= min(st["tokens"], cfg["context_size"])


def test_bad_recipe_sizes_are_rejected():
    r = T.load_recipe(PY / "recipes" / "embedded.json")
    r["stages"][0]["sizes"].append([30, 32, 1])          # not a multiple of 4 px
    with pytest.raises(ValueError, match="multiple of 4"):
        T.validate_recipe(r)
    r = T.load_recipe(PY / "recipes" / "embedded.json")
    r["stages"][0]["sizes"].append([64, 64, 1])          # 256 tokens > the 144-token context
    with pytest.raises(ValueError, match="context_size"):
        T.validate_recipe(r)


# ----------------------------------------------------------------------------------------------
# builder determinism (needs the Debian packages)
# ----------------------------------------------------------------------------------------------

@pytest.mark.skipif(not (HAVE_FONT and HAVE_EMOJI_TEST and HAVE_PIL),
                    reason="fonts-noto-color-emoji / unicode-data / Pillow not installed")
def test_builder_deterministic_on_subset(tmp_path):
    a = ED.build(size=32, limit=24, verbose=False)
    b = ED.build(size=32, limit=24, verbose=False)
    assert ED.content_digest(a) == ED.content_digest(b)
    assert a["images"].shape == (24, 32, 32, 3) and a["images"].dtype == np.uint8
    keys = [tuple(int(c, 16) for c in k.split()) for k in a["codepoints"]]
    assert keys == sorted(keys)
    assert set(a["labels"].tolist()) <= set(range(15))
    assert (a["images"][:, 0, 0] == 255).all()          # white corners
    ED.save(a, tmp_path / "e.npz")
    c = ED.load(tmp_path / "e.npz")
    assert ED.content_digest(c) == ED.content_digest(a)


# ----------------------------------------------------------------------------------------------
# training smoke run (synthetic data; no font needed)
# ----------------------------------------------------------------------------------------------

def _fake_dataset(path: Path, n: int = 30) -> None:
    g = np.random.default_rng(0)
    labels = np.arange(n, dtype=np.int16) % 15
    keys = [f"{0x1F600 + i:X}" for i in range(n)]
    data = dict(
        images=g.integers(0, 256, (n, 64, 64, 3), dtype=np.uint8),
        labels=labels, split=ED.eval_split(keys, labels, 0.2),
        codepoints=np.asarray(keys), names=np.asarray(keys), subgroups=np.asarray(keys),
        class_names=np.asarray(ED.CLASS_NAMES), info=np.asarray(json.dumps({"font_sha256": "x"})))
    ED.save(data, path)


def _tiny_vae(path: Path) -> None:
    """A random VAE of the embedded layout (factor 4, 4 latent channels), narrower."""
    import train_vae
    torch.manual_seed(0)
    config = dict(train_vae.VAE_CONFIG, block_out_channels=[8, 8, 16], norm_num_groups=4, scaling_factor=0.5)
    train_vae.save_vae(train_vae.make_vae(config), config, path, {"steps": 0})


def _tiny_recipe(steps: int) -> dict:
    r = T.load_recipe(PY / "recipes" / "embedded.json")
    r["name"] = "smoke"
    r["steps"] = steps
    r["model"].update(hidden_size=32, depth=1, num_heads=2, adaln_lora_dim=8)
    r["stages"][0].update(tokens=256, sizes=[[32, 32, 1], [24, 40, 1], [16, 16, 1]])
    r["stages"].append(dict(r["stages"][0], start=1, sizes=[[48, 48, 1], [32, 64, 1]]))
    r["optimizer"]["warmup_steps"] = 1
    r["intervals"].update(log=1, eval=2, sample=2, snapshot=0, checkpoint=1)
    r["sampling"]["steps"] = 2
    return r


def test_training_smoke_and_resume(tmp_path):
    from safetensors import safe_open
    data = tmp_path / "fake.npz"
    _fake_dataset(data)
    vae = tmp_path / "vae.safetensors"
    _tiny_vae(vae)
    logs = []

    def train(steps, run, **kw):
        return T.train(_tiny_recipe(steps), tmp_path / run, data_path=data, vae_path=vae, log=logs.append, **kw)
    s = train(2, "a")
    assert s["step"] == 2 and np.isfinite(s["last_loss"])
    run = tmp_path / "a"
    for f in ("model.safetensors", "model_ema.safetensors", "train_state.pt", "recipe.json",
              "log.jsonl", "samples/step-000002.png"):
        assert (run / f).is_file(), f
    with safe_open(str(run / "model_ema.safetensors"), framework="pt") as f:
        meta = f.metadata()
        cfg = json.loads(meta["fit_config"])
        assert json.loads(meta["class_names"]) == list(ED.CLASS_NAMES)
        assert json.loads(meta["fit_training"])["weights"] == "ema"
        keys = set(f.keys())
    m = FiT(**cfg)
    assert keys == set(m.state_dict())
    # a second run in the same folder needs --resume or --fresh
    with pytest.raises(SystemExit):
        train(2, "a")

    # resuming reproduces an uninterrupted run exactly
    train(4, "b")
    train(4, "c", max_minutes=0.0)
    s2 = train(4, "c", resume=True)
    assert s2["step"] == 4
    from safetensors.torch import load_file
    for name in ("model.safetensors", "model_ema.safetensors"):
        wb, wc = load_file(str(tmp_path / "b" / name)), load_file(str(tmp_path / "c" / name))
        for k in wb:
            assert torch.equal(wb[k], wc[k]), (name, k)


def test_latent_views_batches_one_size_within_the_token_budget(tmp_path):
    import train_vae
    vae_file = tmp_path / "vae.safetensors"
    _tiny_vae(vae_file)
    vae, config = train_vae.load_vae(vae_file)
    g = np.random.default_rng(1)
    n = 30
    labels = np.arange(n) % 15
    views = T.LatentViews(g.integers(0, 256, (n, 64, 64, 3), dtype=np.uint8), labels, vae,
                          config["scaling_factor"], 0.75, no_flip=["symbol", "clock"])
    stage = {"tokens": 256, "crop_prob": 0.5, "flip_prob": 1.0, "sizes": [[32, 32, 1], [48, 32, 1], [16, 16, 1]]}
    rng = np.random.default_rng(2)
    seen = set()
    for _ in range(20):
        lat, y = views.sample(rng, stage)
        shapes = {v.shape for v in lat}
        assert len(shapes) == 1                      # bucketed: one size per batch
        (h, w, c), = shapes
        seen.add((h, w))
        assert c == 4 and len(lat) == 256 // (h * w) == len(y)
    assert seen == {(8, 8), (12, 8), (4, 4)}
    # mirrored views exist for ordinary classes only: symbol (12) and clock (10) never flip
    flipped = {k for k in views._latents if k[3]}
    assert flipped and not views.flippable[labels == 12].any() and views.flippable[labels == 0].all()
    # a latent is the VAE's posterior mean of the canvas, times the scaling factor
    z = views.latents(32, 32)
    pix = torch.from_numpy(views.canvases(32, 32, False, False)).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    with torch.no_grad():
        ref = vae.encode(pix).latent_dist.mean * config["scaling_factor"]
    assert torch.allclose(z.permute(0, 3, 1, 2), ref, atol=0.05 * float(ref.abs().max()))


def test_init_weights_skip_a_carried_vae(tmp_path):
    from safetensors.torch import save_file
    torch.manual_seed(3)
    a, b = FiT(**_tiny_model_cfg()), FiT(**_tiny_model_cfg())
    sd = {k: v.clone() for k, v in a.state_dict().items()}
    sd["vae.decoder.conv_out.bias"] = torch.zeros(3)
    save_file(sd, str(tmp_path / "m.safetensors"))
    T.load_weights(b, tmp_path / "m.safetensors")
    assert all(torch.equal(a.state_dict()[k], v) for k, v in b.state_dict().items())


def test_init_grows_depth_with_identity_blocks(tmp_path):
    """--init from a shallower file: old blocks spread evenly, new blocks are the identity, so the
    grown model's output equals the file's model's; a wider file or an equal depth without grow
    still fails loudly."""
    recipe = _tiny_recipe(1)["model"]
    torch.manual_seed(3)
    small = FiT(**dict(recipe, depth=2))
    T.initialize_weights(small)
    with torch.no_grad():                      # make every block do something
        for p in small.parameters():
            p.add_(0.05 * torch.randn_like(p))
    path = tmp_path / "small.safetensors"
    T.save_weights(small, path, 0, "ema", {"name": "t", "ema": {"decay": 0.9}})
    big = FiT(**dict(recipe, depth=5))
    T.initialize_weights(big)
    T.load_weights(big, path, grow=True)
    # old block i sits at floor(i * 5 / 2): 0 and 2
    for old, new in ((0, 0), (1, 2)):
        assert torch.equal(small.blocks[old].attn.qkv.weight, big.blocks[new].attn.qkv.weight)
    for new in (1, 3, 4):
        assert not big.blocks[new].attn.proj.weight.any() and not big.blocks[new].mlp.fc2.weight.any()
    n = 16
    x = torch.randn(2, n, recipe["in_channels"])
    t, y = torch.tensor([0.3, 0.8]), torch.tensor([1, 4])
    ii, jj = torch.meshgrid(torch.arange(4), torch.arange(4), indexing="ij")
    grid = torch.stack([ii.flatten(), jj.flatten()]).float()[None].repeat(2, 1, 1)
    mask, size = torch.ones(2, n), torch.tensor([[4, 4]] * 2)
    with torch.no_grad():
        a, b = small(x, t, y, grid, mask, size), big(x, t, y, grid, mask, size)
    assert a.abs().max() > 0 and torch.allclose(a, b, atol=1e-6)
    with pytest.raises(RuntimeError):
        T.load_weights(big, path)              # without grow, the depth must match
    wide = FiT(**dict(recipe, depth=5, hidden_size=64))
    with pytest.raises(RuntimeError):
        T.load_weights(wide, path, grow=True)  # growing width is not supported
