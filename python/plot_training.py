#!/usr/bin/env python3
"""Draw a training run's loss curve (training loss per logged interval, held-out loss of the raw
and EMA weights) as a PNG, with Pillow only.

Usage: .venv/bin/python python/plot_training.py [--run python/runs/embedded] [--out docs/embedded-training.png]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import List, Sequence, Tuple

PY = Path(__file__).resolve().parent
ROOT = PY.parent

SERIES = (("train loss", "loss", (70, 110, 200)), ("held-out, raw", "eval_loss_raw", (230, 140, 40)),
          ("held-out, EMA", "eval_loss_ema", (40, 160, 80)))


def read_log(path: Path) -> List[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def plot(records: Sequence[dict], title: str, size: Tuple[int, int] = (900, 480)):
    from PIL import Image, ImageDraw, ImageFont
    W, H = size
    left, right, top, bottom = 70, 20, 40, 50
    img = Image.new("RGB", size, "white")
    d = ImageDraw.Draw(img)
    try:
        font = ImageFont.truetype("DejaVuSans.ttf", 13)
    except OSError:
        font = ImageFont.load_default()
    series = [(label, [(r["step"], r[key]) for r in records if key in r and math.isfinite(r[key])], colour)
              for label, key, colour in SERIES]
    points = [p for _, pts, _ in series for p in pts]
    if not points:
        raise SystemExit("the log holds no losses")
    x_max = max(s for s, _ in points)
    y_lo = min(v for _, v in points) * 0.95
    y_hi = min(max(v for _, v in points), 4 * y_lo) * 1.02     # the first steps are off the scale

    def xy(step, value):
        x = left + (W - left - right) * step / max(x_max, 1)
        y = top + (H - top - bottom) * (1 - (min(value, y_hi) - y_lo) / (y_hi - y_lo))
        return x, y
    d.rectangle([left, top, W - right, H - bottom], outline=(160, 160, 160))
    for i in range(6):
        v = y_lo + (y_hi - y_lo) * i / 5
        _, y = xy(0, v)
        d.line([left - 4, y, left, y], fill=(120, 120, 120))
        d.text((8, y - 7), f"{v:.3f}", fill=(60, 60, 60), font=font)
    for i in range(6):
        s = x_max * i / 5
        x, _ = xy(s, y_lo)
        d.line([x, H - bottom, x, H - bottom + 4], fill=(120, 120, 120))
        d.text((x - 15, H - bottom + 8), f"{int(s)}", fill=(60, 60, 60), font=font)
    d.text((W // 2 - 20, H - 22), "step", fill=(60, 60, 60), font=font)
    d.text((left, 12), title, fill=(20, 20, 20), font=font)
    for k, (label, pts, colour) in enumerate(series):
        if len(pts) > 1:
            d.line([xy(s, v) for s, v in pts], fill=colour, width=2)
        for s, v in pts if len(pts) < 60 else []:
            x, y = xy(s, v)
            d.ellipse([x - 3, y - 3, x + 3, y + 3], fill=colour)
        lx = W - right - 160
        ly = top + 10 + 18 * k
        d.line([lx, ly + 7, lx + 20, ly + 7], fill=colour, width=3)
        d.text((lx + 26, ly), label, fill=(40, 40, 40), font=font)
    return img


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", type=Path, default=PY / "runs" / "embedded")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "embedded-training.png")
    ap.add_argument("--title", default="embedded model: rectified-flow loss (latents)")
    args = ap.parse_args(argv)
    log = args.run / "log.jsonl"
    if not log.is_file():
        print(f"error: {log} not found", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    plot(read_log(log), args.title).save(args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
