"""Convert the officially released FiT / FiTv2 weights (and the SD VAE) into the safetensors file `fit` loads.

FiT mode (default): INPUT is a released checkpoint (docs/model.md §5.1):
  FiTv1_xl/model_ema.bin, FiTv2_XL/model_ema.safetensors, FiTv2_3B/model_ema.bin,
  FiTv2_XL_HRFT/model_ema.safetensors, FiTv2_3B_HRFT/model_ema.safetensors.
The file format is sniffed from its first bytes, not its name: safetensors (u64 header length
then `{`), a PyTorch zip archive (`PK\\x03\\x04`; also accepted when it is named .safetensors,
which the official loader tolerates), or a legacy (pre-1.6) PyTorch pickle. A `module.` prefix is
stripped and a dict wrapping the state dict under ema / model_ema / state_dict / model / module
is unwrapped. The model is recognised from its tensor names and shapes against the released
presets (python/fit_reference/presets.py); anything else is refused, naming the first missing,
unexpected and mis-shaped tensors. The HR fine-tunes have their base model's shapes: they are
told apart by an `HR` in the input path (the official folders are `…_HRFT`) or by --preset.

The output holds F32 tensors (written one at a time from a memory map, so the 11.9 GB 3B
checkpoint is never held twice) and the metadata
  fit_config    the preset's official network configuration (JSON, official parameter names)
  class_names   the ImageNet-1k class names (Sources/FiTTUI/Resources/imagenet-1k-classes.json)
  fit_sampling  the settings behind the model's headline results (see RECOMMENDED below)
  fit_source    original file name, its sha256, its detected format and the preset

VAE mode (--vae): INPUT is a diffusers AutoencoderKL (`diffusion_pytorch_model.safetensors` or
`.bin`, or the folder holding it); `config.json` beside it (or --config) gives the shape, else the
sd-vae-ft-ema values. Only the decode path is kept (post_quant_conv.*, decoder.*); legacy mid-block
attention names (query/key/value/proj_attn, possibly 1×1-conv shaped) become
to_q/to_k/to_v/to_out.0 with (C, C) weights (docs/model.md §7). Metadata: vae_config, fit_source.

The output is written under a temporary name in the output folder and renamed into place only
when complete, so a failed or interrupted run never leaves a partial file.

Usage:
  .venv/bin/python python/convert_checkpoint.py INPUT OUTPUT [--preset NAME]
  .venv/bin/python python/convert_checkpoint.py --vae INPUT OUTPUT [--config config.json]
Exit status 0 and one JSON summary line on success; 1 and one `error: …` line on bad input.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import struct
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python"))

from fit_reference.model import FiT  # noqa: E402
from fit_reference.presets import EXPECTED_COUNTS, PRESETS  # noqa: E402
from fit_reference import vae as vae_ref  # noqa: E402

CLASS_NAMES_PATH = ROOT / "Sources/FiTTUI/Resources/imagenet-1k-classes.json"

Shape = Tuple[int, ...]


class ConversionError(Exception):
    """Bad input; the message is one line meant for the user."""


# ----------------------------------------------------------------------------------------------
# recommended sampling settings (metadata `fit_sampling`)
# ----------------------------------------------------------------------------------------------
#
# The settings behind each model's headline FID (docs/model.md §3.4, §4, §8), at the default size
# 256x256. Sampler names are the Swift SamplerKind raw values; interpolation names are the
# official samplers' --interpolation values (Swift RoPEInterpolation).
#
# * FiTv1-XL/2: 250-step respaced DDPM, cfg 1.5 (§4.1 "Reported: 250 DDPM steps, cfg 1.5 for
#   FID"; §8). VisionNTK = dynntk + decouple, ori 16 (§3.4,
#   FiT paper Tables 1-2 "adopts VisionNTK"). At 256x256 (16x16 tokens) VisionNTK scales by
#   s = 16/16 = 1, i.e. it is plain RoPE; it only acts when the user picks a larger size.
# * FiTv2-XL/2 and -3B/2: ODE, dopri5 over 250 time points, cfg 1.5, constant guidance
#   (scale_pow 0): the README commands behind the headline FIDs pass --sampler-mode ODE and
#   cfg 1.5 explicitly (§4.2, §8; Table IV cfg 1.5). dopri5 is adaptive; the 250 is the
#   official output grid (the Swift dopri5 ignores steps). Interpolation: the 256x256 result is
#   in-distribution "without any extrapolation" (§3.4, FiTv2 §V-D1); dynntk + decouple + ori 16
#   is exactly that at 256x256 (s = 1) and is the README's VisionNTK setting for other sizes
#   (§3.4 160x320 row). Not ntkpro2: its attention scale is 1.125 even at 16x16 tokens (§3.2),
#   so it would change the 256x256 result; it is the Table V setting for out-of-distribution
#   sizes (320x320 FID 3.55), which a user asking for such a size may choose explicitly.
# * FiTv2-HR-XL/2 and HR-3B/2: fine-tuned with VisionNTK, so always dynntk + decouple + ori 16
#   (§3.4: "HR (512) fine-tuned v2 checkpoints must always be run with NTK (ori 16)"); ODE dopri5
#   as above; cfg 1.65 (HR-XL) and 1.6 (HR-3B) as in the paper's Table VI headline results
#   (§4.3, §8; the README's HR-3B command uses 1.5). Their headline size is
#   512x512 (Table VI); the default here stays 256x256, where VisionNTK is plain RoPE.
_V1_RECIPE = {"sampler": "ddpm", "steps": 250, "cfg": 1.5, "scale_pow": 0.0,
              "interpolation": "dynntk", "decouple": True, "ori_max_pe_len": 16, "size": "256x256"}
_V2_RECIPE = {"sampler": "dopri5", "steps": 250, "cfg": 1.5, "scale_pow": 0.0,
              "interpolation": "dynntk", "decouple": True, "ori_max_pe_len": 16, "size": "256x256"}

RECOMMENDED: Dict[str, dict] = {
    "fitv1-xl": dict(_V1_RECIPE),
    "fitv2-xl": dict(_V2_RECIPE),
    "fitv2-3b": dict(_V2_RECIPE),
    "fitv2-hr-xl": {**_V2_RECIPE, "cfg": 1.65},
    "fitv2-hr-3b": {**_V2_RECIPE, "cfg": 1.6},
}


def recommended_sampling(preset: str, config: Mapping, table: Optional[Mapping[str, dict]] = None) -> dict:
    """The `fit_sampling` settings for ``preset``; a preset outside the table gets its family's recipe."""
    table = RECOMMENDED if table is None else table
    if preset in table:
        return dict(table[preset])
    return dict(_V2_RECIPE if config.get("use_sit") else _V1_RECIPE)


# ----------------------------------------------------------------------------------------------
# reading the input
# ----------------------------------------------------------------------------------------------

FORMAT_SAFETENSORS = "safetensors"
FORMAT_TORCH_ZIP = "torch-zip"
FORMAT_TORCH_LEGACY = "torch-legacy-pickle"


def sniff_format(path: Path) -> str:
    """The container format of ``path`` from its first bytes (the file name is not trusted)."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(16)
    if head[:4] == b"PK\x03\x04":
        return FORMAT_TORCH_ZIP
    if len(head) >= 9:
        (n,) = struct.unpack("<Q", head[:8])
        if 2 <= n <= size - 8 and head[8:9] == b"{":
            return FORMAT_SAFETENSORS
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return FORMAT_TORCH_LEGACY
    raise ConversionError(f"{path}: neither safetensors nor a PyTorch checkpoint (first bytes {head[:8].hex()})")


_WRAPPER_KEYS = ("ema", "model_ema", "state_dict", "model", "module")
_PREFIXES = ("module.", "_orig_mod.")


@dataclass
class Entry:
    """One output tensor: where it comes from and how it is reshaped."""
    source_name: str
    shape: Shape
    reshape: Optional[Shape] = None   # e.g. (C, C, 1, 1) -> (C, C)

    @property
    def out_shape(self) -> Shape:
        return self.reshape if self.reshape is not None else self.shape


@dataclass
class Source:
    """Tensors of an opened checkpoint: names, shapes without reading data, and lazy access."""
    path: Path
    format: str
    shapes: Dict[str, Shape]
    get: Callable[[str], torch.Tensor]
    dtypes: Dict[str, str] = field(default_factory=dict)
    wrapper: Optional[str] = None
    close: Callable[[], None] = lambda: None


def _is_state_dict(obj) -> bool:
    return isinstance(obj, Mapping) and len(obj) > 0 and all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items())


def _unwrap(obj, path: Path) -> Tuple[Mapping[str, torch.Tensor], Optional[str]]:
    if _is_state_dict(obj):
        return obj, None
    if isinstance(obj, Mapping):
        for key in _WRAPPER_KEYS:
            if _is_state_dict(obj.get(key)):
                return obj[key], key
        keys = ", ".join(repr(k) for k in list(obj.keys())[:8])
        raise ConversionError(f"{path}: a dict without a state dict of tensors (top-level keys: {keys}; "
                              f"looked under {', '.join(_WRAPPER_KEYS)})")
    raise ConversionError(f"{path}: holds a {type(obj).__name__}, not a state dict")


def _torch_load(path: Path, fmt: str, weights_only: bool):
    """torch.load, memory-mapped for zip archives.

    torch.load treats any path ending in .safetensors as safetensors, so a zip archive with that
    name is loaded through a temporary symlink with a neutral name (mmap needs a path); a legacy
    pickle (never memory-mapped) is read through a file object."""
    if fmt != FORMAT_TORCH_ZIP:
        with open(path, "rb") as f:
            return torch.load(f, map_location="cpu", weights_only=weights_only)
    if not path.name.lower().endswith(".safetensors"):
        return torch.load(str(path), map_location="cpu", weights_only=weights_only, mmap=True)
    with tempfile.TemporaryDirectory(prefix="fit-convert-") as tmp:
        link = Path(tmp) / "checkpoint.pt"
        try:
            os.symlink(path.resolve(), link)
        except OSError:   # no symlinks here: read without a memory map
            with open(path, "rb") as f:
                return torch.load(f, map_location="cpu", weights_only=weights_only)
        return torch.load(str(link), map_location="cpu", weights_only=weights_only, mmap=True)


def open_source(path: Path, unsafe_pickle: bool = False) -> Source:
    """Opens ``path`` without reading tensor data (safetensors and zip archives are memory-mapped)."""
    fmt = sniff_format(path)
    if fmt == FORMAT_SAFETENSORS:
        from safetensors import safe_open
        try:
            handle = safe_open(str(path), framework="pt")
            handle.__enter__()
        except Exception as e:  # noqa: BLE001 - any parse failure is bad input
            raise ConversionError(f"{path}: unreadable safetensors ({e})") from None
        shapes, dtypes = {}, {}
        for name in handle.keys():
            sl = handle.get_slice(name)
            shapes[name] = tuple(int(d) for d in sl.get_shape())
            dtypes[name] = str(sl.get_dtype())
        return Source(path, fmt, shapes, handle.get_tensor, dtypes,
                      close=lambda: handle.__exit__(None, None, None))
    try:
        obj = _torch_load(path, fmt, weights_only=not unsafe_pickle)
    except Exception as e:  # noqa: BLE001
        hint = "" if unsafe_pickle else " (if you trust the file, --unsafe-pickle allows arbitrary pickles)"
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ConversionError(f"{path}: cannot load the PyTorch checkpoint: {msg}{hint}") from None
    state, wrapper = _unwrap(obj, path)
    shapes = {k: tuple(int(d) for d in v.shape) for k, v in state.items()}
    dtypes = {k: str(v.dtype).replace("torch.", "") for k, v in state.items()}
    return Source(path, fmt, shapes, lambda k: state[k], dtypes, wrapper)


def strip_prefixes(names: Iterable[str]) -> Dict[str, str]:
    """Maps output name -> source name with a `module.` (DDP) / `_orig_mod.` (compile) prefix removed."""
    out: Dict[str, str] = {}
    for name in names:
        new = name
        changed = True
        while changed:
            changed = False
            for p in _PREFIXES:
                if new.startswith(p):
                    new, changed = new[len(p):], True
        if new in out:
            raise ConversionError(f"tensor {new!r} appears twice (as {out[new]!r} and {name!r})")
        out[new] = name
    return out


# ----------------------------------------------------------------------------------------------
# recognising the model
# ----------------------------------------------------------------------------------------------

_shape_cache: Dict[str, Dict[str, Shape]] = {}


def expected_shapes(config: Mapping) -> Dict[str, Shape]:
    """State-dict shapes of the reference FiT for ``config``, built on the meta device (no memory)."""
    key = json.dumps(config, sort_keys=True)
    if key not in _shape_cache:
        with torch.device("meta"):
            model = FiT(**config)
        _shape_cache[key] = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    return _shape_cache[key]


def numel(shape: Sequence[int]) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


def _fmt_shape(s: Sequence[int]) -> str:
    return "(" + ", ".join(str(d) for d in s) + ")"


def _few(items: List[str], limit: int = 3) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" … and {len(items) - limit} more" if len(items) > limit else "")


def describe_difference(got: Mapping[str, Shape], want: Mapping[str, Shape]) -> Tuple[int, str]:
    """(number of differences, one-line description of the first few)."""
    missing = sorted(k for k in want if k not in got)
    unexpected = sorted(k for k in got if k not in want)
    misshaped = sorted(k for k in want if k in got and tuple(got[k]) != tuple(want[k]))
    parts = []
    if missing:
        parts.append(f"missing {len(missing)}: {_few(missing)}")
    if unexpected:
        parts.append(f"unexpected {len(unexpected)}: {_few(unexpected)}")
    if misshaped:
        parts.append(f"mis-shaped {len(misshaped)}: " + _few(
            [f"{k} {_fmt_shape(got[k])} instead of {_fmt_shape(want[k])}" for k in misshaped]))
    return len(missing) + len(unexpected) + len(misshaped), "; ".join(parts)


_HR_PATTERN = re.compile(r"(?<![a-z])hr", re.IGNORECASE)


def path_says_hr(path: str) -> bool:
    """Whether the path names an HR fine-tune (`FiTv2_XL_HRFT/…`, `fitv2-hr-xl…`): `HR` not inside a word."""
    return bool(_HR_PATTERN.search(path))


def recognise(shapes: Mapping[str, Shape], path: str = "", preset: Optional[str] = None,
              presets: Optional[Mapping[str, dict]] = None,
              expected: Optional[Mapping[str, Tuple[int, int]]] = None) -> str:
    """The preset whose state dict ``shapes`` is, or ConversionError naming what differs.

    ``presets`` (name -> official config) and ``expected`` (name -> (tensor count, parameter
    total)) default to the released models; tests inject a tiny one."""
    presets = PRESETS if presets is None else presets
    expected = EXPECTED_COUNTS if expected is None else expected
    count, total = len(shapes), sum(numel(s) for s in shapes.values())
    have = f"{count} tensors, {total:,} parameters"
    if preset is not None:
        if preset not in presets:
            raise ConversionError(f"unknown preset {preset!r}; choose one of {', '.join(presets)}")
        names = [preset]
    else:
        names = list(presets)
    scored = []
    for name in names:
        want = expected_shapes(presets[name])
        n, text = describe_difference(shapes, want)
        scored.append((n, name, text, want))
    matches = [name for n, name, _, _ in scored if n == 0]
    if not matches:
        n, name, text, want = min(scored, key=lambda s: s[0])
        want_total = sum(numel(s) for s in want.values())
        lead = f"not the {name} model" if preset else f"not a released FiT model (closest: {name})"
        raise ConversionError(f"{lead}: it has {have}, {name} has {len(want)} tensors, "
                              f"{want_total:,} parameters; {text}")
    if len(matches) > 1:   # HR fine-tunes share their base model's shapes
        hr = path_says_hr(path)
        by_hr = [m for m in matches if bool(presets[m].get("context_size", 256) > 256) == hr]
        matches = by_hr or matches
    name = matches[0]
    if name in expected:
        want_count, want_total = expected[name]
        if (count, total) != (want_count, want_total):
            raise ConversionError(f"{name}: has {have}, the released file has {want_count} tensors, "
                                  f"{want_total:,} parameters")
    return name


# ----------------------------------------------------------------------------------------------
# VAE decoder (names, shapes and legacy renaming from fit_reference.vae)
# ----------------------------------------------------------------------------------------------

SD_VAE_DECODER_COUNTS = (140, 49_490_199)   # docs/model.md §7


# ----------------------------------------------------------------------------------------------
# writing
# ----------------------------------------------------------------------------------------------

def sha256_of(path: Path, chunk: int = 16 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            block = f.read(chunk)
            if not block:
                break
            h.update(block)
    return h.hexdigest()


def write_safetensors(out: Path, entries: Mapping[str, Entry], get: Callable[[str], torch.Tensor],
                      metadata: Mapping[str, str], progress: Optional[Callable[[int, int], None]] = None) -> int:
    """Streams ``entries`` (output name -> Entry) as F32 safetensors to ``out``, atomically.

    Tensors are fetched, widened and written one at a time; the file appears under ``out`` only
    when complete (temporary name + fsync + rename). Returns the file size."""
    if sys.byteorder != "little":
        raise ConversionError("this converter writes little-endian data and needs a little-endian machine")
    names = sorted(entries)
    header: Dict[str, object] = {"__metadata__": dict(metadata)}
    offset = 0
    for name in names:
        nbytes = numel(entries[name].out_shape) * 4
        header[name] = {"dtype": "F32", "shape": list(entries[name].out_shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    blob = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    blob += b" " * ((-(8 + len(blob))) % 64)   # data starts 64-byte aligned: F32 tensors map in place
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(struct.pack("<Q", len(blob)))
            f.write(blob)
            for i, name in enumerate(names):
                e = entries[name]
                t = get(e.source_name)
                if tuple(t.shape) != tuple(e.shape):
                    raise ConversionError(f"tensor {e.source_name!r} has shape {_fmt_shape(t.shape)}, "
                                          f"its header said {_fmt_shape(e.shape)}")
                if not (t.is_floating_point()):
                    raise ConversionError(f"tensor {e.source_name!r} is {t.dtype}, not floating point")
                t = t.detach().to(torch.float32)
                if e.reshape is not None:
                    t = t.reshape(e.reshape)
                t = t.contiguous()
                if not bool(torch.isfinite(t).all()):
                    raise ConversionError(f"tensor {e.source_name!r} holds NaN or infinite values")
                f.write(memoryview(t.numpy()).cast("B"))
                del t
                if progress is not None:
                    progress(i + 1, len(names))
            f.flush()
            os.fsync(f.fileno())
            size = f.tell()
        expected = 8 + len(blob) + offset
        if size != expected:
            raise ConversionError(f"wrote {size} bytes, expected {expected}")
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        try:
            tmp.unlink()
        except FileNotFoundError:
            pass
        raise
    return size


def _progress_printer() -> Optional[Callable[[int, int], None]]:
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        print(f"\r  {done}/{total} tensors", end="" if done < total else "\n", file=sys.stderr, flush=True)
    return show


def _source_record(path: Path, fmt: str, extra: Mapping) -> str:
    record = {"file": path.name, "sha256": sha256_of(path), "format": fmt, **extra,
              "converter": "python/convert_checkpoint.py"}
    return json.dumps(record)


def _format_note(path: Path, fmt: str) -> Optional[str]:
    suffix = path.suffix.lower()
    if suffix == ".safetensors" and fmt != FORMAT_SAFETENSORS:
        return f"{path.name} is named .safetensors but is a {fmt} file; read it as {fmt}"
    if suffix in (".bin", ".pt", ".pth", ".ckpt") and fmt == FORMAT_SAFETENSORS:
        return f"{path.name} is named {suffix} but is a safetensors file; read it as safetensors"
    return None


def _check_paths(inp: Path, out: Path) -> None:
    if not inp.is_file():
        raise ConversionError(f"{inp}: no such file")
    if out.exists() and out.resolve() == inp.resolve():
        raise ConversionError(f"{out}: the output would replace the input")
    if out.is_dir():
        raise ConversionError(f"{out}: is a folder; give the output file name")


# ----------------------------------------------------------------------------------------------
# the two conversions
# ----------------------------------------------------------------------------------------------

def load_class_names(path: Path = CLASS_NAMES_PATH) -> List[str]:
    names = json.loads(Path(path).read_text(encoding="utf-8"))
    if not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
        raise ConversionError(f"{path}: not a JSON array of strings")
    return names


def convert_fit(inp: Path, out: Path, preset: Optional[str] = None,
                presets: Optional[Mapping[str, dict]] = None,
                expected: Optional[Mapping[str, Tuple[int, int]]] = None,
                class_names: Optional[List[str]] = None,
                sampling: Optional[Mapping[str, dict]] = None,
                unsafe_pickle: bool = False) -> dict:
    """Converts a FiT checkpoint; returns a summary. Raises ConversionError on bad input."""
    inp, out = Path(inp), Path(out)
    _check_paths(inp, out)
    presets = PRESETS if presets is None else presets
    src = open_source(inp, unsafe_pickle=unsafe_pickle)
    try:
        mapping = strip_prefixes(src.shapes)
        shapes = {new: src.shapes[old] for new, old in mapping.items()}
        name = recognise(shapes, str(inp.resolve()), preset, presets, expected)
        config = dict(presets[name])
        names = load_class_names() if class_names is None else list(class_names)
        if len(names) != int(config["num_classes"]):
            raise ConversionError(f"{len(names)} class names for a model with {config['num_classes']} classes")
        recommended = recommended_sampling(name, config, sampling)
        metadata = {
            "fit_config": json.dumps(config),
            "class_names": json.dumps(names, ensure_ascii=False),
            "fit_sampling": json.dumps(recommended),
            "fit_source": _source_record(inp, src.format, {"preset": name, **({"wrapper": src.wrapper} if src.wrapper else {})}),
        }
        entries = {new: Entry(old, tuple(src.shapes[old])) for new, old in mapping.items()}
        size = write_safetensors(out, entries, src.get, metadata, _progress_printer())
    finally:
        src.close()
    summary = {"out": str(out), "bytes": size, "preset": name, "format": src.format,
               "tensors": len(entries), "parameters": sum(numel(e.shape) for e in entries.values()),
               "input_dtypes": sorted(set(src.dtypes.values())), "sampling": recommended}
    note = _format_note(inp, src.format)
    if note:
        summary["note"] = note
    if src.wrapper:
        summary["wrapper"] = src.wrapper
    if len(mapping) and any(k != v for k, v in mapping.items()):
        summary["stripped_prefix"] = True
    return summary


def _resolve_vae_input(inp: Path) -> Path:
    if inp.is_dir():
        for name in ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin"):
            if (inp / name).is_file():
                return inp / name
        raise ConversionError(f"{inp}: no diffusion_pytorch_model.safetensors or .bin in this folder")
    return inp


def convert_vae(inp: Path, out: Path, config_path: Optional[Path] = None,
                expected_counts: Optional[Tuple[int, int]] = None, unsafe_pickle: bool = False) -> dict:
    """Converts a diffusers VAE to its decoder-only F32 safetensors; returns a summary.

    The config is ``config_path``, else ``config.json`` beside the weights, else sd-vae-ft-ema's.
    The decoder must have ``expected_counts`` (tensors, parameters) when given, and 140 /
    49,490,199 when the config has sd-vae-ft-ema's shape (docs/model.md §7)."""
    inp, out = _resolve_vae_input(Path(inp)), Path(out)
    _check_paths(inp, out)
    config_file = Path(config_path) if config_path else inp.parent / "config.json"
    raw_config: dict = {}
    if config_file.is_file():
        try:
            raw_config = json.loads(config_file.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise ConversionError(f"{config_file}: not JSON ({e})") from None
        if not isinstance(raw_config, dict):
            raise ConversionError(f"{config_file}: not a JSON object")
    elif config_path:
        raise ConversionError(f"{config_file}: no such file")
    else:
        raw_config = dict(vae_ref.SD_VAE_FT_EMA_CONFIG_JSON)
    try:
        config = vae_ref.VAEConfig.from_dict(raw_config)
    except (vae_ref.VAEConfigError, TypeError, ValueError) as e:
        raise ConversionError(f"{config_file.name if config_file.is_file() else 'sd-vae-ft-ema config'}: {e}") from None
    src = open_source(inp, unsafe_pickle=unsafe_pickle)
    try:
        mapping = strip_prefixes(src.shapes)
        # The VAE is small (335 MB for sd-vae-ft-ema): read it whole and let the reference
        # normalise it (drop encoder / quant_conv, rename legacy attention, squeeze 1x1 weights).
        try:
            tensors = vae_ref.normalize_vae_state_dict({new: src.get(old) for new, old in mapping.items()}, config)
        except vae_ref.VAEStateDictError as e:
            raise ConversionError(f"{inp.name}: {e}") from None
        count, total = len(tensors), sum(t.numel() for t in tensors.values())
        if expected_counts is None and (config.block_out_channels, config.layers_per_block, config.latent_channels,
                                        config.out_channels, config.mid_block_add_attention) == \
                ((128, 256, 512, 512), 2, 4, 3, True):
            expected_counts = SD_VAE_DECODER_COUNTS
        if expected_counts is not None and (count, total) != tuple(expected_counts):
            raise ConversionError(f"decoder has {count} tensors, {total:,} parameters; expected "
                                  f"{expected_counts[0]} tensors, {expected_counts[1]:,} parameters")
        vae_config = {**raw_config, **config.to_dict()}
        metadata = {
            "vae_config": json.dumps(vae_config),
            "fit_source": _source_record(inp, src.format, {
                "kind": "vae-decoder", "config": config_file.name if config_file.is_file() else "sd-vae-ft-ema defaults"}),
        }
        entries = {k: Entry(k, tuple(t.shape)) for k, t in tensors.items()}
        size = write_safetensors(out, entries, tensors.__getitem__, metadata, _progress_printer())
    finally:
        src.close()
    legacy = sorted(k for k in mapping if k.rsplit(".", 2)[-2] in vae_ref.LEGACY_ATTENTION_NAMES)
    summary = {"out": str(out), "bytes": size, "format": src.format, "tensors": count, "parameters": total,
               "dropped": len(src.shapes) - count, "legacy_attention_renamed": len(legacy),
               "config": str(config_file) if config_file.is_file() else "sd-vae-ft-ema defaults"}
    note = _format_note(inp, src.format)
    if note:
        summary["note"] = note
    return summary


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input", type=Path, help="released checkpoint (.bin / .safetensors), or a diffusers VAE with --vae")
    ap.add_argument("output", type=Path, help="safetensors file to write")
    ap.add_argument("--preset", choices=sorted(PRESETS), help="the model, when the path does not say (HR fine-tunes)")
    ap.add_argument("--vae", action="store_true", help="convert a diffusers VAE to its decoder")
    ap.add_argument("--config", type=Path, help="with --vae: the diffusers config.json (default: beside INPUT)")
    ap.add_argument("--unsafe-pickle", action="store_true",
                    help="load pickles that need more than tensors (runs code from the file; only for trusted files)")
    args = ap.parse_args(argv)
    try:
        if args.vae:
            if args.preset:
                raise ConversionError("--preset is for FiT checkpoints, not --vae")
            summary = convert_vae(args.input, args.output, args.config, unsafe_pickle=args.unsafe_pickle)
        else:
            if args.config:
                raise ConversionError("--config is for --vae; FiT models take their configuration from --preset")
            summary = convert_fit(args.input, args.output, args.preset, unsafe_pickle=args.unsafe_pickle)
    except ConversionError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
