"""Reference PyTorch implementation of the SD-VAE *decoder* (diffusers ``AutoencoderKL`` layout).

Written for this project from docs/model.md section 7; only the public
interface of diffusers is kept: the ``config.json`` keys and the state-dict key names, so a
diffusers checkpoint (``diffusion_pytorch_model.safetensors``) loads strictly.

Decode path, for latents z of shape (B, latent_channels, h, w):

    z   = z_scaled / scaling_factor [+ nothing else: shift_factor / latents_mean are rejected]
    z   = post_quant_conv(z)                     1x1 conv, latent -> latent
    h   = decoder.conv_in(z)                     3x3, latent -> block_out_channels[-1]
    h   = mid_block: resnets.0 -> attentions.0 (optional) -> resnets.1
    for each up block (block_out_channels reversed):
        layers_per_block + 1 resnets (the first one changes the width; conv_shortcut 1x1 if in != out)
        upsamplers.0 = nearest x2 then 3x3 conv   (all but the last up block)
    img = conv_out(SiLU(conv_norm_out(h)))       GroupNorm -> SiLU -> 3x3 conv to out_channels

Every GroupNorm has ``norm_num_groups`` groups, eps 1e-6 and an affine weight / bias.
ResNet block: out = shortcut(x) + conv2(SiLU(norm2(conv1(SiLU(norm1(x)))))).
Mid attention: one head over all C channels; r = x; t = group_norm(x) as (B, HW, C) tokens;
softmax(q k^T / sqrt(C)) v; to_out.0; reshape back; + r.

The output image is the pre-clamp decoder output, roughly in [-1, 1]; ``to_uint8`` converts it
like FiT's samplers: clamp(127.5 x + 128, 0, 255) then truncation to uint8.
"""

from __future__ import annotations

import json
import math
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, Mapping, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import nn

GROUP_NORM_EPS = 1e-6
DEFAULT_SCALING_FACTOR = 0.18215

# config.json of stabilityai/sd-vae-ft-ema (sd-vae-ft-mse has the same architecture). It has no
# scaling_factor key: diffusers' default 0.18215 applies.
SD_VAE_FT_EMA_CONFIG_JSON = {
    "_class_name": "AutoencoderKL",
    "_diffusers_version": "0.4.2",
    "act_fn": "silu",
    "block_out_channels": [128, 256, 512, 512],
    "down_block_types": ["DownEncoderBlock2D"] * 4,
    "in_channels": 3,
    "latent_channels": 4,
    "layers_per_block": 2,
    "norm_num_groups": 32,
    "out_channels": 3,
    "sample_size": 256,
    "up_block_types": ["UpDecoderBlock2D"] * 4,
}


class VAEConfigError(ValueError):
    """A config.json that this decoder cannot run."""


class VAEStateDictError(ValueError):
    """A state dict whose decoder tensors are missing, unexpected or mis-shaped."""


@dataclass(frozen=True)
class VAEConfig:
    """The decoder-relevant part of a diffusers ``AutoencoderKL`` config."""

    block_out_channels: Tuple[int, ...] = (128, 256, 512, 512)
    layers_per_block: int = 2
    latent_channels: int = 4
    norm_num_groups: int = 32
    out_channels: int = 3
    scaling_factor: float = DEFAULT_SCALING_FACTOR
    mid_block_add_attention: bool = True

    def __post_init__(self):
        object.__setattr__(self, "block_out_channels", tuple(int(c) for c in self.block_out_channels))
        if not self.block_out_channels:
            raise VAEConfigError("block_out_channels must not be empty")
        for name in ("layers_per_block", "latent_channels", "norm_num_groups", "out_channels"):
            if int(getattr(self, name)) < 1:
                raise VAEConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        for c in self.block_out_channels:
            if c < 1 or c % self.norm_num_groups:
                raise VAEConfigError(
                    f"every block_out_channels entry must be a positive multiple of "
                    f"norm_num_groups={self.norm_num_groups}; got {list(self.block_out_channels)}")
        if not (self.scaling_factor > 0 and math.isfinite(self.scaling_factor)):
            raise VAEConfigError(f"scaling_factor must be a positive number, got {self.scaling_factor}")

    @classmethod
    def from_dict(cls, d: Mapping) -> "VAEConfig":
        """Build from a diffusers ``config.json`` dict. Unknown keys are ignored; keys that would
        change the decode path in a way this decoder does not implement are rejected."""
        if d.get("act_fn", "silu") != "silu":
            raise VAEConfigError(f"act_fn {d['act_fn']!r} is not supported (only 'silu')")
        ups = d.get("up_block_types")
        if ups is not None:
            if any(u != "UpDecoderBlock2D" for u in ups):
                raise VAEConfigError(f"up_block_types {ups} not supported (only UpDecoderBlock2D)")
            if "block_out_channels" in d and len(ups) != len(d["block_out_channels"]):
                raise VAEConfigError("up_block_types and block_out_channels differ in length")
        if d.get("shift_factor") not in (None, 0, 0.0):
            raise VAEConfigError(f"shift_factor {d['shift_factor']} is not supported")
        if d.get("latents_mean") is not None or d.get("latents_std") is not None:
            raise VAEConfigError("latents_mean / latents_std are not supported")
        if d.get("use_post_quant_conv", True) is not True:
            raise VAEConfigError("use_post_quant_conv false is not supported")
        sf = d.get("scaling_factor")
        return cls(
            block_out_channels=tuple(d.get("block_out_channels", (64,))),
            layers_per_block=int(d.get("layers_per_block", 1)),
            latent_channels=int(d.get("latent_channels", 4)),
            norm_num_groups=int(d.get("norm_num_groups", 32)),
            out_channels=int(d.get("out_channels", 3)),
            scaling_factor=float(DEFAULT_SCALING_FACTOR if sf is None else sf),
            mid_block_add_attention=bool(d.get("mid_block_add_attention", True)),
        )

    @classmethod
    def from_json(cls, text: str) -> "VAEConfig":
        return cls.from_dict(json.loads(text))

    def to_dict(self) -> dict:
        """A diffusers-style config dict (keys in a fixed order) that ``from_dict`` reads back."""
        n = len(self.block_out_channels)
        return {
            "_class_name": "AutoencoderKL",
            "act_fn": "silu",
            "block_out_channels": list(self.block_out_channels),
            "down_block_types": ["DownEncoderBlock2D"] * n,
            "in_channels": self.out_channels,
            "latent_channels": self.latent_channels,
            "layers_per_block": self.layers_per_block,
            "mid_block_add_attention": self.mid_block_add_attention,
            "norm_num_groups": self.norm_num_groups,
            "out_channels": self.out_channels,
            "scaling_factor": self.scaling_factor,
            "up_block_types": ["UpDecoderBlock2D"] * n,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @property
    def upsample_factor(self) -> int:
        return 2 ** (len(self.block_out_channels) - 1)


SD_VAE_FT_EMA = VAEConfig.from_dict(SD_VAE_FT_EMA_CONFIG_JSON)


# ----------------------------------------------------------------------------------------------
# modules (attribute names = diffusers state-dict names)
# ----------------------------------------------------------------------------------------------

def _group_norm(channels: int, groups: int) -> nn.GroupNorm:
    return nn.GroupNorm(groups, channels, eps=GROUP_NORM_EPS, affine=True)


class ResnetBlock(nn.Module):
    def __init__(self, cin: int, cout: int, groups: int):
        super().__init__()
        self.norm1 = _group_norm(cin, groups)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.norm2 = _group_norm(cout, groups)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        skip = self.conv_shortcut(x) if self.conv_shortcut is not None else x
        return skip + h


class MidAttention(nn.Module):
    """Single-head self-attention over the H*W positions, with a GroupNorm in front."""

    def __init__(self, channels: int, groups: int):
        super().__init__()
        self.group_norm = _group_norm(channels, groups)
        self.to_q = nn.Linear(channels, channels)
        self.to_k = nn.Linear(channels, channels)
        self.to_v = nn.Linear(channels, channels)
        self.to_out = nn.ModuleList([nn.Linear(channels, channels)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, hh, ww = x.shape
        t = self.group_norm(x).reshape(b, c, hh * ww).transpose(1, 2)      # (B, N, C)
        q, k, v = self.to_q(t), self.to_k(t), self.to_v(t)
        scores = torch.matmul(q, k.transpose(1, 2)) / math.sqrt(c)          # (B, N, N)
        o = torch.matmul(torch.softmax(scores, dim=-1), v)
        o = self.to_out[0](o)
        return x + o.transpose(1, 2).reshape(b, c, hh, ww)


class MidBlock(nn.Module):
    def __init__(self, channels: int, groups: int, attention: bool):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock(channels, channels, groups) for _ in range(2)])
        self.attentions = nn.ModuleList([MidAttention(channels, groups)] if attention else [])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.resnets[0](x)
        if len(self.attentions):
            x = self.attentions[0](x)
        return self.resnets[1](x)


class Upsample(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class UpBlock(nn.Module):
    def __init__(self, cin: int, cout: int, n_resnets: int, groups: int, upsample: bool):
        super().__init__()
        self.resnets = nn.ModuleList(
            [ResnetBlock(cin if i == 0 else cout, cout, groups) for i in range(n_resnets)])
        self.upsamplers = nn.ModuleList([Upsample(cout)] if upsample else [])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for r in self.resnets:
            x = r(x)
        for u in self.upsamplers:
            x = u(x)
        return x


class Decoder(nn.Module):
    def __init__(self, cfg: VAEConfig):
        super().__init__()
        chans = list(reversed(cfg.block_out_channels))
        g = cfg.norm_num_groups
        self.conv_in = nn.Conv2d(cfg.latent_channels, chans[0], 3, padding=1)
        self.mid_block = MidBlock(chans[0], g, cfg.mid_block_add_attention)
        blocks = []
        prev = chans[0]
        for i, c in enumerate(chans):
            blocks.append(UpBlock(prev, c, cfg.layers_per_block + 1, g, upsample=i < len(chans) - 1))
            prev = c
        self.up_blocks = nn.ModuleList(blocks)
        self.conv_norm_out = _group_norm(chans[-1], g)
        self.conv_out = nn.Conv2d(chans[-1], cfg.out_channels, 3, padding=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.mid_block(self.conv_in(z))
        for blk in self.up_blocks:
            h = blk(h)
        return self.conv_out(F.silu(self.conv_norm_out(h)))


class VAEDecoder(nn.Module):
    """``post_quant_conv`` + ``decoder`` of an AutoencoderKL; state-dict keys as in diffusers."""

    def __init__(self, cfg: VAEConfig = SD_VAE_FT_EMA):
        super().__init__()
        self.config = cfg
        self.post_quant_conv = nn.Conv2d(cfg.latent_channels, cfg.latent_channels, 1)
        self.decoder = Decoder(cfg)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Unscaled latents (what diffusers' ``AutoencoderKL.decode`` takes) -> image."""
        return self.decoder(self.post_quant_conv(z))

    def decode(self, z_scaled: torch.Tensor) -> torch.Tensor:
        """Scaled latents as FiT produces them (~unit variance) -> pre-clamp image (B, C, 8h, 8w)."""
        if z_scaled.dim() != 4 or z_scaled.shape[1] != self.config.latent_channels:
            raise ValueError(f"expected latents (B, {self.config.latent_channels}, h, w), "
                             f"got {tuple(z_scaled.shape)}")
        return self(z_scaled / self.config.scaling_factor)

    def load_diffusers_state_dict(self, sd: Mapping[str, torch.Tensor]) -> None:
        """Load a diffusers VAE state dict (whole AutoencoderKL or decoder only, either naming)."""
        norm = normalize_vae_state_dict(sd, self.config)
        ref = self.state_dict()
        self.load_state_dict({k: v.to(ref[k].dtype) for k, v in norm.items()}, strict=True)


def to_uint8(image: torch.Tensor) -> torch.Tensor:
    """clamp(127.5 x + 128, 0, 255) then truncation (FiT's samplers), in the image's dtype."""
    return torch.clamp(127.5 * image + 128.0, 0, 255).to(torch.uint8)


# ----------------------------------------------------------------------------------------------
# state dicts
# ----------------------------------------------------------------------------------------------

def decoder_state_dict_keys(cfg: VAEConfig) -> "OrderedDict[str, Tuple[int, ...]]":
    """Every tensor the decode path needs (post_quant_conv + decoder.*), name -> shape.

    Computed from the config alone (same order as ``VAEDecoder(cfg).state_dict()``)."""
    out: "OrderedDict[str, Tuple[int, ...]]" = OrderedDict()

    def conv(name, cout, cin, k):
        out[f"{name}.weight"] = (cout, cin, k, k)
        out[f"{name}.bias"] = (cout,)

    def norm(name, c):
        out[f"{name}.weight"] = (c,)
        out[f"{name}.bias"] = (c,)

    def linear(name, cout, cin):
        out[f"{name}.weight"] = (cout, cin)
        out[f"{name}.bias"] = (cout,)

    def resnet(p, cin, cout):
        norm(f"{p}.norm1", cin)
        conv(f"{p}.conv1", cout, cin, 3)
        norm(f"{p}.norm2", cout)
        conv(f"{p}.conv2", cout, cout, 3)
        if cin != cout:
            conv(f"{p}.conv_shortcut", cout, cin, 1)

    lc = cfg.latent_channels
    chans = list(reversed(cfg.block_out_channels))
    conv("post_quant_conv", lc, lc, 1)
    conv("decoder.conv_in", chans[0], lc, 3)
    m = "decoder.mid_block"
    resnet(f"{m}.resnets.0", chans[0], chans[0])
    resnet(f"{m}.resnets.1", chans[0], chans[0])
    if cfg.mid_block_add_attention:
        a = f"{m}.attentions.0"
        norm(f"{a}.group_norm", chans[0])
        for proj in ("to_q", "to_k", "to_v", "to_out.0"):
            linear(f"{a}.{proj}", chans[0], chans[0])
    prev = chans[0]
    for i, c in enumerate(chans):
        for j in range(cfg.layers_per_block + 1):
            resnet(f"decoder.up_blocks.{i}.resnets.{j}", prev if j == 0 else c, c)
        if i < len(chans) - 1:
            conv(f"decoder.up_blocks.{i}.upsamplers.0.conv", c, c, 3)
        prev = c
    norm("decoder.conv_norm_out", chans[-1])
    conv("decoder.conv_out", cfg.out_channels, chans[-1], 3)
    return out


# deprecated diffusers AttentionBlock names -> current Attention names
LEGACY_ATTENTION_NAMES = {"query": "to_q", "key": "to_k", "value": "to_v", "proj_attn": "to_out.0"}
_ATTN_PROJECTIONS = ("to_q", "to_k", "to_v", "to_out.0")


def _rename_legacy(name: str) -> str:
    if ".attentions." not in name:
        return name
    prefix, leaf = name.rsplit(".", 1)                  # leaf: weight / bias
    head, _, module = prefix.rpartition(".")
    if module in LEGACY_ATTENTION_NAMES:
        return f"{head}.{LEGACY_ATTENTION_NAMES[module]}.{leaf}"
    return name


def _is_attention_projection_weight(name: str) -> bool:
    return ".attentions." in name and name.endswith(".weight") and \
        any(name.endswith(f".{p}.weight") for p in _ATTN_PROJECTIONS)


def normalize_vae_state_dict(sd: Mapping[str, torch.Tensor],
                             cfg: VAEConfig = SD_VAE_FT_EMA) -> "OrderedDict[str, torch.Tensor]":
    """The decoder tensors of a diffusers VAE state dict, in current diffusers naming.

    * drops ``encoder.*`` and ``quant_conv.*`` (not needed to decode);
    * renames the deprecated attention names query/key/value/proj_attn -> to_q/to_k/to_v/to_out.0;
    * squeezes attention projection weights stored as 1x1 convs (C, C, 1, 1) to (C, C);
    * then requires exactly the tensors of ``decoder_state_dict_keys(cfg)`` with their shapes,
      raising ``VAEStateDictError`` listing what is missing, unexpected or mis-shaped.
    """
    expected = decoder_state_dict_keys(cfg)
    got: Dict[str, torch.Tensor] = {}
    for name, t in sd.items():
        if name.startswith("encoder.") or name.startswith("quant_conv."):
            continue
        new = _rename_legacy(name)
        if new in got:
            raise VAEStateDictError(f"{name!r} and another tensor both map to {new!r}")
        if _is_attention_projection_weight(new) and t.dim() == 4 and tuple(t.shape[2:]) == (1, 1):
            t = t.reshape(t.shape[0], t.shape[1])
        got[new] = t
    missing = [k for k in expected if k not in got]
    unexpected = sorted(k for k in got if k not in expected)
    misshaped = [f"{k}: expected {list(s)}, got {list(got[k].shape)}"
                 for k, s in expected.items() if k in got and tuple(got[k].shape) != s]
    if missing or unexpected or misshaped:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)}: " + ", ".join(missing[:8]) +
                         (" ..." if len(missing) > 8 else ""))
        if unexpected:
            parts.append(f"unexpected {len(unexpected)}: " + ", ".join(unexpected[:8]) +
                         (" ..." if len(unexpected) > 8 else ""))
        if misshaped:
            parts.append(f"mis-shaped {len(misshaped)}: " + "; ".join(misshaped[:8]) +
                         (" ..." if len(misshaped) > 8 else ""))
        raise VAEStateDictError("VAE decoder state dict does not match the config "
                                f"(block_out_channels {list(cfg.block_out_channels)}, "
                                f"layers_per_block {cfg.layers_per_block}): " + " | ".join(parts))
    return OrderedDict((k, got[k]) for k in expected)


# ----------------------------------------------------------------------------------------------
# loading checkpoints from disk
# ----------------------------------------------------------------------------------------------

def load_vae(path: Union[str, Path], dtype: torch.dtype = torch.float32,
             default_config: Optional[VAEConfig] = None) -> VAEDecoder:
    """Load a VAE decoder from a diffusers folder or a .safetensors file.

    A folder must hold ``config.json`` and ``diffusion_pytorch_model.safetensors``. For a file the
    config comes from its metadata key ``vae_config`` (JSON), else from a ``config.json`` beside
    it, else ``default_config`` (error if None).
    """
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = Path(path)
    if path.is_dir():
        weights = path / "diffusion_pytorch_model.safetensors"
        cfg = VAEConfig.from_json((path / "config.json").read_text())
    else:
        weights = path
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
        if "vae_config" in meta:
            cfg = VAEConfig.from_json(meta["vae_config"])
        elif (path.parent / "config.json").is_file():
            cfg = VAEConfig.from_json((path.parent / "config.json").read_text())
        elif default_config is not None:
            cfg = default_config
        else:
            raise VAEConfigError(f"{path}: no vae_config metadata and no config.json beside it")
    model = VAEDecoder(cfg).to(dtype)
    model.load_diffusers_state_dict(load_file(str(weights)))
    return model.eval()


CARRIED_PREFIX = "vae."


def load_carried_vae(path: Union[str, Path], dtype: torch.dtype = torch.float32) -> Optional[VAEDecoder]:
    """The VAE decoder a FiT checkpoint carries (tensors under ``vae.``, config in the metadata
    key ``vae_config``), as FiT Explorer's embedded model does; None if it carries none."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
        names = [k for k in f.keys() if k.startswith(CARRIED_PREFIX)]
        if not names:
            return None
        if "vae_config" not in meta:
            raise VAEConfigError(f"{path} carries vae.* tensors but no vae_config metadata")
        sd = {k[len(CARRIED_PREFIX):]: f.get_tensor(k) for k in names}
    model = VAEDecoder(VAEConfig.from_json(meta["vae_config"])).to(dtype)
    model.load_diffusers_state_dict(sd)
    return model.eval()


# ----------------------------------------------------------------------------------------------
# FLOP count
# ----------------------------------------------------------------------------------------------

def vae_flop_count(cfg: VAEConfig, h: int, w: int, batch: int = 1) -> int:
    """FLOPs (2 x MACs) of one decode of a latent of h x w positions (image 8h x 8w for SD).

    Counted: every convolution (3x3 and 1x1, incl. post_quant_conv, conv_shortcut, upsampler
    convs, conv_out) and the mid attention's q/k/v/out projections plus the QK^T and AV
    products. Not counted: GroupNorm, SiLU, softmax, bias adds, residual adds, upsampling copies.
    """
    macs = 0
    hh, ww = h, w

    def conv(cout, cin, k):
        nonlocal macs
        macs += cout * cin * k * k * hh * ww

    def resnet(cin, cout):
        conv(cout, cin, 3)
        conv(cout, cout, 3)
        if cin != cout:
            conv(cout, cin, 1)

    lc = cfg.latent_channels
    chans = list(reversed(cfg.block_out_channels))
    conv(lc, lc, 1)
    conv(chans[0], lc, 3)
    resnet(chans[0], chans[0])
    if cfg.mid_block_add_attention:
        n, c = hh * ww, chans[0]
        macs += 4 * n * c * c + 2 * n * n * c
    resnet(chans[0], chans[0])
    prev = chans[0]
    for i, c in enumerate(chans):
        for j in range(cfg.layers_per_block + 1):
            resnet(prev if j == 0 else c, c)
        if i < len(chans) - 1:
            hh, ww = 2 * hh, 2 * ww
            conv(c, c, 3)
        prev = c
    conv(cfg.out_channels, chans[-1], 3)
    return 2 * macs * batch
