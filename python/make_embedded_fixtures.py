"""Golden trajectories of the shipped emoji model, for the Swift parity test.

The PyTorch reference samples with the exported F16 weights (widened to F32, as the Swift loader
does) and the same seeds, and decodes the final latents with the VAE the file carries;
`Tests/FiTKitTests/EmbeddedModelParityTests.swift` checks that Swift makes the same latents and
the same images (relative error <= 1e-3 after the whole trajectory and the decode). The manifest records
the SHA-256 of the model file, so a re-exported model without new fixtures fails loudly.

Usage: .venv/bin/python python/make_embedded_fixtures.py
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python"))

from fit_reference.sampling import load_fit_checkpoint, sample  # noqa: E402
from fit_reference.vae import load_carried_vae  # noqa: E402

MODEL = ROOT / "Sources/FiTTUI/Resources/fit-emoji.safetensors"
OUT = ROOT / "Tests/FiTKitTests/Fixtures/embedded"

# (case, sampler, steps, cfg, seed, class, (h, w) latent cells = tokens (patch 1), rope overrides);
# images are 4x larger (the VAE's factor)
CASES = [
    ("euler-32x32", "euler", 8, 3.0, 1, 0, (8, 8), {}),
    ("heun-40x24", "heun", 4, 2.0, 2, 1, (6, 10), {}),
    ("euler-64x64-visionyarn", "euler", 6, 3.0, 3, 11, (16, 16),
     {"custom_freqs": "yarn", "decouple": True, "ori_max_pe_len": 12}),
]


def fingerprint(data: bytes) -> str:
    """fit's ModelFingerprint: a 64-bit multiply-xorshift hash over little-endian 8-byte words."""
    mask, prime = (1 << 64) - 1, 0x100000001B3
    h = 0xCBF29CE484222325 ^ len(data)
    words = len(data) // 8
    for (w,) in __import__("struct").iter_unpack("<Q", data[: 8 * words]):
        h = ((h ^ w) * prime) & mask
        h ^= h >> 29
    for b in data[8 * words:]:
        h = ((h ^ b) * prime) & mask
    return f"{h:016x}"


def main() -> None:
    torch.set_num_threads(2)
    OUT.mkdir(parents=True, exist_ok=True)
    data = MODEL.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    manifest = []
    vae = load_carried_vae(MODEL)
    for case, sampler, steps, cfg, seed, cls, (h, w), rope in CASES:
        model = load_fit_checkpoint(MODEL, dtype=torch.float32, **rope)
        traj = sample(model, sampler, classes=[cls], h=h, w=w, seed=seed, steps=steps, cfg_scale=cfg)
        with torch.no_grad():
            image = vae.decode(traj.sample.float())
        save_file({"x_T": traj.x_T.float().contiguous(), "sample": traj.sample.float().contiguous(),
                   "image": image.contiguous()}, str(OUT / f"{case}.safetensors"))
        interpolation = {"ntk-aware": "dynntk", "yarn": "yarn"}.get(rope.get("custom_freqs"), "no")
        manifest.append({"case": case, "sampler": sampler, "steps": steps, "cfg": cfg, "seed": seed, "class": cls,
                         "height": h, "width": w, "interpolation": interpolation,
                         "decouple": rope.get("decouple", False), "ori_max_pe_len": rope.get("ori_max_pe_len"),
                         "file": f"{case}.safetensors"})
        print(case, "done")
    (OUT / "manifest.json").write_text(json.dumps({"model_sha256": digest, "model_fingerprint": fingerprint(data), "cases": manifest}, indent=1) + "\n")


if __name__ == "__main__":
    main()
