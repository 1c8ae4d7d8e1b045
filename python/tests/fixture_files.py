"""Comparing a regenerated fixture file with the committed one.

Seeded inputs and weights must come out bit for bit; the outputs of float computations may differ
in the last bits between CPUs (PyTorch's kernels take different paths on AVX2, AVX-512 and AMX;
float32 sin/cos of arguments near 1000 differ by up to 3e-5), so they are compared within a
relative tolerance of their largest magnitude instead.
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file

#: Relative error (max |a - b| / max |b|) allowed between float outputs made on different CPUs.
CROSS_CPU_RTOL = 1e-4


def assert_same_fixture(made: Path, committed: Path) -> None:
    """``made`` equals ``committed``: a safetensors file has the same metadata, names, shapes and
    dtypes, equal integer tensors and float tensors within ``CROSS_CPU_RTOL``; any other file is
    byte-identical."""
    if made.suffix != ".safetensors":
        assert made.read_bytes() == committed.read_bytes(), made.name
        return
    with safe_open(str(made), "pt") as a, safe_open(str(committed), "pt") as b:
        assert a.metadata() == b.metadata(), made.name
    ta, tb = load_file(str(made)), load_file(str(committed))
    assert set(ta) == set(tb), made.name
    for k in ta:
        x, y = ta[k], tb[k]
        assert x.shape == y.shape and x.dtype == y.dtype, (made.name, k)
        if x.is_floating_point():
            scale = y.double().abs().max().item() if y.numel() else 0.0
            err = (x.double() - y.double()).abs().max().item() if y.numel() else 0.0
            assert err <= CROSS_CPU_RTOL * max(scale, 1e-30), (made.name, k, err / max(scale, 1e-30))
        else:
            assert torch.equal(x, y), (made.name, k)
