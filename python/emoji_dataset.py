#!/usr/bin/env python3
"""Build the emoji training set for FiT Explorer's embedded model.

Source art: the Noto Color Emoji font (Debian package ``fonts-noto-color-emoji``) rendered glyph by
glyph with Pillow (CBDT bitmaps, 109 ppem, 136x128 px), composited on white.
Labels: Unicode's ``emoji-test.txt`` (Debian package ``unicode-data``), fully-qualified sequences
only; sequences the font draws as several glyphs (no ligature for a ZWJ sequence) are dropped.

Every kept glyph is padded with white to a square and resized to ``--size`` (default 64) px.
The result is deterministic (sorted by code points, fixed render and resize settings) and is
written as one compressed ``.npz`` file (default ``python/data/emoji-64.npz``, git-ignored):

  images       uint8  (N, S, S, 3)  RGB on white
  labels       int16  (N,)          index into class_names
  split        uint8  (N,)          0 = train, 1 = held-out evaluation (~10 %, stratified)
  codepoints   str    (N,)          e.g. "1F468 200D 1F469"
  names        str    (N,)          CLDR short name from emoji-test.txt
  subgroups    str    (N,)          Unicode subgroup
  class_names  str    (15,)         CLASS_NAMES, in this order
  info         str    ()            JSON: versions, font sha256, sizes

Usage:  .venv/bin/python python/emoji_dataset.py [--out FILE] [--size 64] [--limit N]
        .venv/bin/python python/emoji_dataset.py --show-class heart
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Tuple

import numpy as np

PY = Path(__file__).resolve().parent
DEFAULT_OUT = PY / "data" / "emoji-64.npz"

FONT_PATHS = (
    "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf",
    "/usr/share/fonts/noto/NotoColorEmoji.ttf",
)
EMOJI_TEST_PATHS = (
    "/usr/share/unicode/emoji/emoji-test.txt",
    "/usr/share/unicode-data/emoji/emoji-test.txt",
)
FONT_PACKAGE = "fonts-noto-color-emoji"
EMOJI_TEST_PACKAGE = "unicode-data"

PPEM = 109            # the only strike size of the CBDT bitmaps in Noto Color Emoji
EVAL_FRACTION = 0.10  # held-out share per class

CLASS_NAMES: Tuple[str, ...] = (
    "smiley", "heart", "person", "hand", "animal", "plant", "food", "vehicle", "building",
    "sky-weather", "clock", "flag", "symbol", "object", "activity",
)

# (kind, pattern, class) -- first match wins; kind "subgroup" matches the subgroup with fnmatch,
# "group" matches the group name exactly; class None drops the emoji (face-costume would otherwise
# match face-*); an emoji no rule matches is dropped too.
RULES: Tuple[Tuple[str, str, Optional[str]], ...] = (
    ("subgroup", "face-costume", None),
    ("subgroup", "face-*", "smiley"),
    ("subgroup", "heart", "heart"),
    ("subgroup", "person", "person"),
    ("subgroup", "person-gesture", "person"),
    ("subgroup", "person-role", "person"),
    ("subgroup", "person-fantasy", "person"),
    ("subgroup", "person-activity", "person"),
    ("subgroup", "person-sport", "person"),
    ("subgroup", "person-resting", "person"),
    ("subgroup", "family", "person"),
    ("subgroup", "person-symbol", "person"),
    ("subgroup", "hand*", "hand"),
    ("subgroup", "hands", "hand"),
    ("subgroup", "body-parts", "hand"),
    ("subgroup", "animal-*", "animal"),
    ("subgroup", "cat-face", "animal"),
    ("subgroup", "monkey-face", "animal"),
    ("subgroup", "plant-*", "plant"),
    ("group", "Food & Drink", "food"),
    ("subgroup", "transport-ground", "vehicle"),
    ("subgroup", "transport-air", "vehicle"),
    ("subgroup", "transport-water", "vehicle"),
    ("subgroup", "place-*", "building"),
    ("subgroup", "hotel", "building"),
    ("subgroup", "sky & weather", "sky-weather"),
    ("subgroup", "time", "clock"),
    ("group", "Flags", "flag"),
    ("group", "Symbols", "symbol"),
    ("group", "Objects", "object"),
    ("group", "Activities", "activity"),
)


class MissingPackageError(RuntimeError):
    """A system file the builder needs is absent; the message names the Debian package."""


def class_index(name: str) -> int:
    """Index of class ``name``; an unknown name raises ValueError listing the 15 names."""
    try:
        return CLASS_NAMES.index(name)
    except ValueError:
        raise ValueError(f"unknown class {name!r}; the classes are: {', '.join(CLASS_NAMES)}") from None


def classify(group: str, subgroup: str) -> Optional[str]:
    """Class name for a Unicode (group, subgroup), or None when the emoji is dropped."""
    for kind, pattern, cls in RULES:
        if kind == "subgroup" and fnmatch.fnmatchcase(subgroup, pattern):
            return cls
        if kind == "group" and group == pattern:
            return cls
    return None


# ----------------------------------------------------------------------------------------------
# emoji-test.txt
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    codepoints: Tuple[int, ...]
    name: str
    group: str
    subgroup: str

    @property
    def text(self) -> str:
        return "".join(chr(c) for c in self.codepoints)

    @property
    def key(self) -> str:
        return " ".join(f"{c:04X}" for c in self.codepoints)


def find_file(candidates: Sequence[str], explicit: Optional[str], what: str, package: str) -> Path:
    paths = [explicit] if explicit else list(candidates)
    for p in paths:
        if p and Path(p).is_file():
            return Path(p)
    raise MissingPackageError(
        f"{what} not found (looked at {', '.join(map(str, paths))}). "
        f"Install the Debian package {package!r}:  sudo apt-get install {package}")


def parse_emoji_test(text: str) -> List[Entry]:
    """Fully-qualified entries of emoji-test.txt, in file order, with group/subgroup."""
    group = subgroup = ""
    out: List[Entry] = []
    for line in text.splitlines():
        if line.startswith("# group:"):
            group = line.split(":", 1)[1].strip()
        elif line.startswith("# subgroup:"):
            subgroup = line.split(":", 1)[1].strip()
        elif line and not line.startswith("#"):
            fields, _, comment = line.partition("#")
            cps, _, status = fields.partition(";")
            if status.strip() != "fully-qualified":
                continue
            # comment: "<emoji> E<version> <name>"
            parts = comment.strip().split(" ", 2)
            name = parts[2] if len(parts) == 3 else comment.strip()
            out.append(Entry(tuple(int(c, 16) for c in cps.split()), name, group, subgroup))
    return out


def emoji_test_version(text: str) -> str:
    for line in text.splitlines()[:20]:
        if line.startswith("# Version:"):
            return line.split(":", 1)[1].strip()
    return "unknown"


# ----------------------------------------------------------------------------------------------
# rendering
# ----------------------------------------------------------------------------------------------

class Renderer:
    """Renders one emoji sequence with Pillow + raqm (HarfBuzz shaping, so ZWJ ligatures form)."""

    def __init__(self, font_path: Path):
        try:
            from PIL import Image, ImageDraw, ImageFont, features
        except ImportError as e:  # pragma: no cover
            raise RuntimeError("Pillow is required: .venv/bin/pip install -r python/requirements.txt") from e
        if not features.check("raqm"):
            raise RuntimeError(
                "Pillow was built without raqm (HarfBuzz/FriBiDi text shaping); emoji ZWJ sequences "
                "would not ligate. Use the Pillow wheel pinned in python/requirements.txt.")
        self.Image, self.ImageDraw = Image, ImageDraw
        self.font = ImageFont.truetype(str(font_path), PPEM, layout_engine=ImageFont.Layout.RAQM)
        self.advance = self.font.getlength("\U0001F600")   # one glyph (~135.7 px)

    def glyph_count(self, text: str) -> int:
        """How many glyph advances the shaped sequence takes (1 = the font has a ligature)."""
        return int(round(self.font.getlength(text) / self.advance))

    def render(self, text: str):
        """RGB PIL image of one glyph on white (native size, 136x128), or None if blank."""
        left, top, right, bottom = self.font.getbbox(text)
        w, h = max(1, right - left), max(1, bottom - top)
        rgba = self.Image.new("RGBA", (w, h), (255, 255, 255, 0))
        self.ImageDraw.Draw(rgba).text((-left, -top), text, font=self.font, embedded_color=True)
        white = self.Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        rgb = self.Image.alpha_composite(white, rgba).convert("RGB")
        if rgba.getchannel("A").getbbox() is None:
            return None
        return rgb


def to_square(img, size: int):
    """Pad with white to a centred square, then Lanczos-resize to size x size."""
    from PIL import Image
    w, h = img.size
    s = max(w, h)
    canvas = Image.new("RGB", (s, s), (255, 255, 255))
    canvas.paste(img, ((s - w) // 2, (s - h) // 2))
    if s != size:
        canvas = canvas.resize((size, size), Image.Resampling.LANCZOS)
    return canvas


# ----------------------------------------------------------------------------------------------
# split
# ----------------------------------------------------------------------------------------------

def eval_split(keys: Sequence[str], labels: Sequence[int], fraction: float = EVAL_FRACTION) -> np.ndarray:
    """Deterministic stratified hold-out: per class, the round(fraction * n) (at least 1 when the
    class has >= 5 members) entries with the smallest sha1(code points) are held out."""
    split = np.zeros(len(keys), dtype=np.uint8)
    labels = np.asarray(labels)
    for c in np.unique(labels):
        idx = np.nonzero(labels == c)[0]
        n_eval = int(round(fraction * len(idx)))
        if n_eval == 0 and len(idx) >= 5:
            n_eval = 1
        order = sorted(idx, key=lambda i: hashlib.sha1(keys[i].encode()).hexdigest())
        split[order[:n_eval]] = 1
    return split


# ----------------------------------------------------------------------------------------------
# build
# ----------------------------------------------------------------------------------------------

def build(size: int = 64, font: Optional[str] = None, emoji_test: Optional[str] = None,
          limit: Optional[int] = None, verbose: bool = True) -> dict:
    """Build the dataset in memory; returns the arrays written to the .npz file.

    ``limit`` keeps only the first ``limit`` candidates in sorted code-point order (for tests).
    """
    test_path = find_file(EMOJI_TEST_PATHS, emoji_test, "emoji-test.txt", EMOJI_TEST_PACKAGE)
    font_path = find_file(FONT_PATHS, font, "Noto Color Emoji font (NotoColorEmoji.ttf)", FONT_PACKAGE)
    text = test_path.read_text(encoding="utf-8")
    entries = parse_emoji_test(text)
    labelled = [(e, classify(e.group, e.subgroup)) for e in entries]
    dropped_class = sum(1 for _, c in labelled if c is None)
    candidates = sorted(((e, c) for e, c in labelled if c is not None), key=lambda ec: ec[0].codepoints)
    if limit is not None:
        candidates = candidates[:limit]

    renderer = Renderer(font_path)
    images, labels, keys, names, subgroups = [], [], [], [], []
    dropped_multi = dropped_blank = 0
    for e, cls in candidates:
        if renderer.glyph_count(e.text) != 1:
            dropped_multi += 1
            continue
        img = renderer.render(e.text)
        if img is None:
            dropped_blank += 1
            continue
        images.append(np.asarray(to_square(img, size), dtype=np.uint8))
        labels.append(CLASS_NAMES.index(cls))
        keys.append(e.key)
        names.append(e.name)
        subgroups.append(e.subgroup)

    labels_arr = np.asarray(labels, dtype=np.int16)
    split = eval_split(keys, labels_arr)
    from PIL import __version__ as pil_version
    info = dict(
        size=size, ppem=PPEM, font=str(font_path),
        font_sha256=hashlib.sha256(font_path.read_bytes()).hexdigest(),
        emoji_test=str(test_path), emoji_test_version=emoji_test_version(text),
        pillow=pil_version, fully_qualified=len(entries), dropped_by_class_rules=dropped_class,
        dropped_multi_glyph=dropped_multi, dropped_blank=dropped_blank, limit=limit,
        eval_fraction=EVAL_FRACTION,
    )
    data = dict(
        images=np.stack(images) if images else np.zeros((0, size, size, 3), np.uint8),
        labels=labels_arr,
        split=split,
        codepoints=np.asarray(keys, dtype=str),
        names=np.asarray(names, dtype=str),
        subgroups=np.asarray(subgroups, dtype=str),
        class_names=np.asarray(CLASS_NAMES, dtype=str),
        info=np.asarray(json.dumps(info, sort_keys=True)),
    )
    if verbose:
        print(format_stats(data))
    return data


def format_stats(data: dict) -> str:
    labels, split = data["labels"], data["split"]
    info = json.loads(str(data["info"]))
    lines = [f"{'class':12s} {'total':>6s} {'train':>6s} {'eval':>5s}"]
    for i, name in enumerate(CLASS_NAMES):
        m = labels == i
        lines.append(f"{name:12s} {int(m.sum()):6d} {int((m & (split == 0)).sum()):6d} "
                     f"{int((m & (split == 1)).sum()):5d}")
    lines.append(f"{'total':12s} {len(labels):6d} {int((split == 0).sum()):6d} {int((split == 1).sum()):5d}")
    lines.append(f"emoji-test {info['emoji_test_version']}: {info['fully_qualified']} fully-qualified; "
                 f"dropped {info['dropped_by_class_rules']} by the class rules, "
                 f"{info['dropped_multi_glyph']} drawn as several glyphs, {info['dropped_blank']} blank")
    return "\n".join(lines)


def save(data: dict, path: Path) -> None:
    """Write the .npz deterministically (fixed member order, no timestamps that matter)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    np.savez_compressed(buf, **data)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(buf.getvalue())
    tmp.replace(path)


def load(path: Path = DEFAULT_OUT) -> dict:
    """Load a cache file written by ``save``; a missing file explains how to make it."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found; build it with:  .venv/bin/python python/emoji_dataset.py")
    with np.load(path, allow_pickle=False) as z:
        data = {k: z[k] for k in z.files}
    names = tuple(str(s) for s in data["class_names"])
    if names != CLASS_NAMES:
        raise ValueError(f"{path}: class names {names} differ from {CLASS_NAMES}; rebuild the cache")
    return data


def content_digest(data: dict) -> str:
    """sha256 over the arrays (independent of zip timestamps)."""
    h = hashlib.sha256()
    for k in sorted(data):
        v = np.ascontiguousarray(data[k])
        h.update(k.encode())
        h.update(str(v.dtype).encode() + str(v.shape).encode())
        h.update(v.tobytes())
    return h.hexdigest()


# ----------------------------------------------------------------------------------------------
# training-time views of the art (used by train.py and evaluate.py)
# ----------------------------------------------------------------------------------------------

def resize_images(images: np.ndarray, side: int) -> np.ndarray:
    """(N, S, S, 3) uint8 -> (N, side, side, 3) uint8 with Pillow's Lanczos filter."""
    from PIL import Image
    if images.shape[1] == side:
        return images.copy()
    out = np.empty((images.shape[0], side, side, 3), dtype=np.uint8)
    for i, im in enumerate(images):
        out[i] = np.asarray(Image.fromarray(im).resize((side, side), Image.Resampling.LANCZOS))
    return out


def place_center(art: np.ndarray, height: int, width: int, fill: float = 255.0) -> np.ndarray:
    """Centre a square (s, s, 3) art on a (height, width, 3) white canvas: pad where the canvas
    is larger, centre-crop where it is smaller. Works for uint8 and float arrays."""
    s = art.shape[0]
    canvas = np.full((height, width, art.shape[2]), fill, dtype=art.dtype)
    def spans(n_art, n_can):
        if n_art <= n_can:
            o = (n_can - n_art) // 2
            return slice(0, n_art), slice(o, o + n_art)
        o = (n_art - n_can) // 2
        return slice(o, o + n_can), slice(0, n_can)
    (ar, cr), (ac, cc) = spans(s, height), spans(s, width)
    canvas[cr, cc] = art[ar, ac]
    return canvas


def art_side(height: int, width: int, crop: bool) -> int:
    """Art side for a height x width canvas: fit (the shorter side, whole emoji visible) or,
    with ``crop``, the geometric mean of the shorter and longer side (larger, centre-cropped)."""
    lo, hi = min(height, width), max(height, width)
    return int(round((lo * hi) ** 0.5)) if crop else lo


def main(argv: Optional[Iterable[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--size", type=int, default=64, help="square image side in px (default 64)")
    ap.add_argument("--font", help="path of NotoColorEmoji.ttf (default: the Debian location)")
    ap.add_argument("--emoji-test", help="path of emoji-test.txt (default: the Debian location)")
    ap.add_argument("--limit", type=int, help="only the first N candidates (sorted order)")
    ap.add_argument("--show-class", metavar="NAME", help="list the members of a class in the cache file")
    args = ap.parse_args(list(argv) if argv is not None else None)
    try:
        if args.show_class:
            ci = class_index(args.show_class)
            data = load(args.out)
            sel = np.nonzero(data["labels"] == ci)[0]
            for i in sel:
                cp = str(data["codepoints"][i])
                text = "".join(chr(int(c, 16)) for c in cp.split())
                tag = " (eval)" if data["split"][i] else ""
                print(f"{text}\t{cp}\t{data['names'][i]}\t[{data['subgroups'][i]}]{tag}")
            print(f"{len(sel)} emoji in class {args.show_class!r}")
            return 0
        data = build(args.size, args.font, args.emoji_test, args.limit)
    except (MissingPackageError, ValueError, FileNotFoundError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    save(data, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 2**20:.1f} MiB, "
          f"{data['images'].shape[0]} images {args.size}x{args.size}, sha256 {content_digest(data)[:16]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
