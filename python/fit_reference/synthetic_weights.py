"""Deterministic synthetic weights, defined bit for bit so another language can regenerate them.

Used for the real-shape SD-VAE decoder fixture (200 MB of float32 that is never committed: the
Swift tests regenerate the same numbers). The definition, all integer arithmetic mod 2^64:

  key seed    h = FNV-1a 64 of the key's UTF-8 bytes:
                  h = 0xcbf29ce484222325; for each byte b: h ^= b; h = h * 0x100000001b3
  element i   (flat row-major index in the PyTorch shape)
              x = h + i
              z = x + 0x9E3779B97F4A7C15                      (splitmix64 finaliser)
              z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
              z = (z ^ (z >> 27)) * 0x94D049BB133111EB
              z =  z ^ (z >> 31)
  in float32  u = float32(z >> 40) / 2^24                      (exact, in [0, 1))
              v = 2 u - 1                                      (exact, in [-1, 1))
              value = float32(v * scale) + offset              (two float32 roundings, no FMA)
  where       ".weight", ndim >= 2 : scale = float32(sqrt(3 / fan_in)) (sqrt in float64),
                                     fan_in = product of all dims but the first; offset 0
              ".weight", ndim == 1 : scale = float32(0.2), offset 1   (GroupNorm gamma)
              ".bias"              : scale = float32(0.1), offset 0
              anything else        : an error

So a weight is uniform on [-sqrt(3/fan_in), sqrt(3/fan_in)) (variance 1/fan_in), a norm gamma is
uniform on [0.8, 1.2), a bias uniform on [-0.1, 0.1).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Mapping, Sequence, Tuple

import numpy as np

FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
_MASK64 = (1 << 64) - 1

_U64 = np.uint64
_GOLDEN = _U64(0x9E3779B97F4A7C15)
_MIX1 = _U64(0xBF58476D1CE4E5B9)
_MIX2 = _U64(0x94D049BB133111EB)


def fnv1a64(key: str) -> int:
    h = FNV_OFFSET
    for b in key.encode("utf-8"):
        h ^= b
        h = (h * FNV_PRIME) & _MASK64
    return h


def splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 output function on a uint64 array (wrapping arithmetic)."""
    x = np.asarray(x, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = x + _GOLDEN
        z = (z ^ (z >> _U64(30))) * _MIX1
        z = (z ^ (z >> _U64(27))) * _MIX2
        return z ^ (z >> _U64(31))


def scale_offset(name: str, shape: Sequence[int]) -> Tuple[np.float32, np.float32]:
    shape = tuple(int(s) for s in shape)
    if name.endswith(".weight") and len(shape) >= 2:
        fan_in = math.prod(shape[1:])
        return np.float32(math.sqrt(3.0 / fan_in)), np.float32(0.0)
    if name.endswith(".weight") and len(shape) == 1:
        return np.float32(0.2), np.float32(1.0)
    if name.endswith(".bias"):
        return np.float32(0.1), np.float32(0.0)
    raise ValueError(f"no synthetic rule for {name!r} with shape {shape}")


def synthetic_uniform(name: str, count: int) -> np.ndarray:
    """The float32 v in [-1, 1) for elements 0..count-1 of key ``name``."""
    h = _U64(fnv1a64(name))
    with np.errstate(over="ignore"):
        x = np.arange(count, dtype=np.uint64) + h
    u = (splitmix64(x) >> _U64(40)).astype(np.float32) / np.float32(1 << 24)
    return np.float32(2.0) * u - np.float32(1.0)


def synthetic_tensor(name: str, shape: Sequence[int]) -> np.ndarray:
    """The synthetic float32 tensor of key ``name`` with the given (PyTorch) shape."""
    shape = tuple(int(s) for s in shape)
    scale, offset = scale_offset(name, shape)
    v = synthetic_uniform(name, math.prod(shape))
    out = (v * scale).astype(np.float32) + offset       # float32 * float32, then float32 + float32
    assert out.dtype == np.float32
    return out.reshape(shape)


def synthetic_state_dict(shapes: Mapping[str, Sequence[int]]) -> "OrderedDict[str, np.ndarray]":
    """name -> synthetic float32 array, for every entry of ``shapes`` (order kept)."""
    return OrderedDict((k, synthetic_tensor(k, s)) for k, s in shapes.items())


def synthetic_torch_state_dict(shapes: Mapping[str, Sequence[int]], dtype=None):
    """Same as ``synthetic_state_dict`` but torch tensors (float32, or cast to ``dtype``)."""
    import torch
    out = OrderedDict()
    for k, s in shapes.items():
        t = torch.from_numpy(synthetic_tensor(k, s))
        out[k] = t if dtype is None else t.to(dtype)
    return out
