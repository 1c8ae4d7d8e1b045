"""Reference PyTorch implementation of FiT (v1) and FiTv2, written for this project.

The implementation follows docs/model.md (sections 2-5). It is not a copy of
the official code; only the public interface is kept identical so that released checkpoints
load strictly: the state-dict key names and the constructor parameter names/defaults of the
official ``FiT`` class.

One deliberate deviation from the official HEAD (docs/model.md section 4.5): the official forward
always applies ``t = clamp(ts * t / (1 + (ts - 1) * t), max=1)``. For v1 (DDPM, integer timesteps
0..999) that collapses every t >= 1 to 1, which cannot be what the released v1 checkpoint was
trained with. Here the clamp / time shifting is applied ONLY when ``use_sit`` is True (v2, flow
time in [0, 1]); v1 embeds the raw integer timestep.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from . import rope as rope_mod

# Constructor parameters of the official FiT class that describe the network (training-only
# parameters ``pretrain_ckpt``, ``ignore_keys``, ``finetune`` are accepted but unused).
CONFIG_KEYS = (
    "context_size", "patch_size", "in_channels", "hidden_size", "depth", "num_heads",
    "mlp_ratio", "class_dropout_prob", "num_classes", "learn_sigma", "use_sit",
    "use_checkpoint", "use_swiglu", "use_swiglu_large", "rel_pos_embed", "norm_type",
    "q_norm", "k_norm", "qk_norm_weight", "qkv_bias", "ffn_bias", "adaln_bias", "adaln_type",
    "adaln_lora_dim", "rope_theta", "custom_freqs", "max_pe_len_h", "max_pe_len_w",
    "decouple", "ori_max_pe_len", "online_rope", "add_rel_pe_to_v", "time_shifting",
)


# ----------------------------------------------------------------------------------------------
# small building blocks
# ----------------------------------------------------------------------------------------------

def modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """x * (1 + scale) + shift with (B, D) modulation broadcast over tokens."""
    return x * (1.0 + scale[:, None, :]) + shift[:, None, :]


class PlainRMSNorm(nn.Module):
    """RMS norm over the last dim, optionally with a learned weight (key ``weight``)."""

    def __init__(self, dim: int, eps: float = 1e-6, weight: bool = True):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim)) if weight else None

    def forward(self, x):
        y = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return y * self.weight if self.weight is not None else y


def make_norm(kind: Optional[str], dim: int, eps: float = 1e-6) -> nn.Module:
    """Norm factory with the official names. 'layernorm' has no parameters at all."""
    if kind is None or kind == "" or kind.lower() == "none":
        return nn.Identity()
    kind = kind.lower()
    if kind == "layernorm":
        return nn.LayerNorm(dim, eps=eps, elementwise_affine=False, bias=False)
    if kind == "w_layernorm":
        return nn.LayerNorm(dim, eps=eps, bias=False)
    if kind == "w_rmsnorm":
        return PlainRMSNorm(dim, eps, weight=True)
    if kind == "rmsnorm":
        return PlainRMSNorm(dim, eps, weight=False)
    raise NotImplementedError(f"unknown norm type {kind!r}")


def timestep_embedding(t: torch.Tensor, dim: int = 256, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal embedding, cos half first.

    The frequencies exp(-ln(max_period) * k / half) are float32 values (as in the official code,
    which builds them in float32); the products t * freq and cos/sin run in t's dtype.
    """
    half = dim // 2
    k = torch.arange(half, dtype=torch.float32, device=t.device)
    freqs = torch.exp(-math.log(max_period) * k / half).to(t.dtype)
    args = t[:, None] * freqs[None, :]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    if dim % 2:
        emb = torch.cat([emb, torch.zeros_like(emb[:, :1])], dim=-1)
    return emb


class PatchEmbedder(nn.Module):
    """A token is already a flattened patch, so the embedding is a plain Linear."""

    def __init__(self, input_dim: int, embed_dim: int, bias: bool = True):
        super().__init__()
        self.proj = nn.Linear(input_dim, embed_dim, bias=bias)
        self.norm = nn.Identity()

    def forward(self, x):
        return self.norm(self.proj(x))


class TimestepEmbedder(nn.Module):
    def __init__(self, hidden_size: int, frequency_embedding_size: int = 256):
        super().__init__()
        self.frequency_embedding_size = frequency_embedding_size
        self.mlp = nn.Sequential(
            nn.Linear(frequency_embedding_size, hidden_size, bias=True),
            nn.SiLU(),
            nn.Linear(hidden_size, hidden_size, bias=True),
        )

    def forward(self, t):
        return self.mlp(timestep_embedding(t, self.frequency_embedding_size))


class LabelEmbedder(nn.Module):
    """Class table; with class dropout an extra last row is the null (unconditional) label."""

    def __init__(self, num_classes: int, hidden_size: int, dropout_prob: float):
        super().__init__()
        self.num_classes = num_classes
        self.dropout_prob = dropout_prob
        extra = 1 if dropout_prob > 0 else 0
        self.embedding_table = nn.Embedding(num_classes + extra, hidden_size)

    def forward(self, labels, train: bool = False):
        if train and self.dropout_prob > 0:
            drop = torch.rand(labels.shape[0], device=labels.device) < self.dropout_prob
            labels = torch.where(drop, torch.full_like(labels, self.num_classes), labels)
        return self.embedding_table(labels)


class SwiGLU(nn.Module):
    """fc2( SiLU(fc1_g(x)) * fc1_x(x) ) (timm SwiGLU key layout)."""

    def __init__(self, in_features: int, hidden_features: int, out_features: Optional[int] = None,
                 bias: bool = True):
        super().__init__()
        out_features = out_features or in_features
        self.fc1_g = nn.Linear(in_features, hidden_features, bias=bias)
        self.fc1_x = nn.Linear(in_features, hidden_features, bias=bias)
        self.act = nn.SiLU()
        self.norm = nn.Identity()
        self.fc2 = nn.Linear(hidden_features, out_features, bias=bias)

    def forward(self, x):
        return self.fc2(self.norm(self.act(self.fc1_g(x)) * self.fc1_x(x)))


class GeluMlp(nn.Module):
    """fc2(GELU_tanh(fc1(x))) (timm Mlp key layout); used when use_swiglu is False."""

    def __init__(self, in_features: int, hidden_features: int, bias: bool = True):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden_features, bias=bias)
        self.act = nn.GELU(approximate="tanh")
        self.norm = nn.Identity()
        self.fc2 = nn.Linear(hidden_features, in_features, bias=bias)

    def forward(self, x):
        return self.fc2(self.norm(self.act(self.fc1(x))))


class Attention(nn.Module):
    def __init__(self, dim: int, num_heads: int, qkv_bias: bool = True,
                 q_norm: Optional[str] = None, k_norm: Optional[str] = None,
                 qk_norm_weight: bool = False, rel_pos_embed: Optional[str] = "rope",
                 add_rel_pe_to_v: bool = False):
        super().__init__()
        assert dim % num_heads == 0
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        if qk_norm_weight:
            q_norm = "w_layernorm" if q_norm == "layernorm" else q_norm
            k_norm = "w_layernorm" if k_norm == "layernorm" else k_norm
        self.q_norm = make_norm(q_norm, self.head_dim)
        self.k_norm = make_norm(k_norm, self.head_dim)
        self.proj = nn.Linear(dim, dim, bias=True)   # always biased, independent of qkv_bias
        self.rel_pos_embed = rel_pos_embed.lower() if rel_pos_embed else None
        self.add_rel_pe_to_v = add_rel_pe_to_v

    def forward(self, x, mask, cos, sin):
        B, N, D = x.shape
        # features [0:D) = q, [D:2D) = k, [2D:3D) = v; head h owns [h*Dh, (h+1)*Dh) of each
        q, k, v = self.qkv(x).view(B, N, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k = self.q_norm(q), self.k_norm(k)
        if self.rel_pos_embed in ("rope", "xpos") and cos is not None:
            q = rope_mod.apply_rope(q, cos, sin)
            k = rope_mod.apply_rope(k, cos, sin)
            if self.add_rel_pe_to_v:
                v = rope_mod.apply_rope(v, cos, sin)
        if mask is None:
            o = F.scaled_dot_product_attention(q, k, v)
        else:
            # token i may attend to token j iff both are valid or both are padding
            allowed = (mask[:, None, :, None] == mask[:, None, None, :])
            o = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
        o = o.transpose(1, 2).reshape(B, N, D)
        if mask is not None:
            o = o * (mask != 0).to(o.dtype)[..., None]
        return self.proj(o)


class FiTBlock(nn.Module):
    def __init__(self, hidden_size: int, num_heads: int, mlp_ratio: float = 4.0,
                 swiglu: bool = True, swiglu_large: bool = False,
                 rel_pos_embed: Optional[str] = "rope", add_rel_pe_to_v: bool = False,
                 norm_layer: str = "layernorm", q_norm: Optional[str] = None,
                 k_norm: Optional[str] = None, qk_norm_weight: bool = False,
                 qkv_bias: bool = True, ffn_bias: bool = True, adaln_bias: bool = True,
                 adaln_type: str = "normal", adaln_lora_dim: Optional[int] = None):
        super().__init__()
        D = hidden_size
        self.norm1 = make_norm(norm_layer, D)
        self.norm2 = make_norm(norm_layer, D)
        self.attn = Attention(D, num_heads, qkv_bias=qkv_bias, q_norm=q_norm, k_norm=k_norm,
                              qk_norm_weight=qk_norm_weight, rel_pos_embed=rel_pos_embed,
                              add_rel_pe_to_v=add_rel_pe_to_v)
        hidden = int(D * mlp_ratio)
        if swiglu:
            ffn_hidden = hidden if swiglu_large else (hidden * 2) // 3
            self.mlp = SwiGLU(D, ffn_hidden, bias=ffn_bias)
        else:
            self.mlp = GeluMlp(D, hidden, bias=ffn_bias)
        if adaln_type == "normal":
            self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(D, 6 * D, bias=adaln_bias))
        elif adaln_type == "lora":
            # two Linears with no nonlinearity between them (low-rank 6D x D map)
            self.adaLN_modulation = nn.Sequential(
                nn.SiLU(),
                nn.Linear(D, adaln_lora_dim, bias=adaln_bias),
                nn.Linear(adaln_lora_dim, 6 * D, bias=adaln_bias),
            )
        elif adaln_type == "swiglu":
            self.adaLN_modulation = SwiGLU(D, (D // 4) * 3, 6 * D, bias=adaln_bias)
        else:
            raise ValueError(f"unknown adaln_type {adaln_type!r}")

    def forward(self, x, c, mask, cos, sin, global_adaln=None):
        mod = self.adaLN_modulation(c)
        if global_adaln is not None:
            mod = mod + global_adaln
        shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp = mod.chunk(6, dim=1)
        x = x + gate_msa[:, None, :] * self.attn(modulate(self.norm1(x), shift_msa, scale_msa), mask, cos, sin)
        x = x + gate_mlp[:, None, :] * self.mlp(modulate(self.norm2(x), shift_mlp, scale_mlp))
        return x


class FinalLayer(nn.Module):
    def __init__(self, hidden_size: int, patch_size: int, out_channels: int,
                 norm_layer: str = "layernorm", adaln_bias: bool = True, adaln_type: str = "normal"):
        super().__init__()
        D = hidden_size
        self.norm_final = make_norm(norm_layer, D)
        self.linear = nn.Linear(D, patch_size * patch_size * out_channels, bias=True)
        if adaln_type == "swiglu":
            self.adaLN_modulation = SwiGLU(D, D // 2, 2 * D, bias=adaln_bias)
        else:
            self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(D, 2 * D, bias=adaln_bias))

    def forward(self, x, c):
        shift, scale = self.adaLN_modulation(c).chunk(2, dim=1)   # shift first
        return self.linear(modulate(self.norm_final(x), shift, scale))


# ----------------------------------------------------------------------------------------------
# the model
# ----------------------------------------------------------------------------------------------

class FiT(nn.Module):
    """FiT / FiTv2 (one class; the version is selected by the flags)."""

    def __init__(
        self,
        context_size: int = 256,
        patch_size: int = 2,
        in_channels: int = 4,
        hidden_size: int = 1152,
        depth: int = 28,
        num_heads: int = 16,
        mlp_ratio: float = 4.0,
        class_dropout_prob: float = 0.1,
        num_classes: int = 1000,
        learn_sigma: bool = True,
        use_sit: bool = False,
        use_checkpoint: bool = False,
        use_swiglu: bool = False,
        use_swiglu_large: bool = False,
        rel_pos_embed: Optional[str] = "rope",
        norm_type: str = "layernorm",
        q_norm: Optional[str] = None,
        k_norm: Optional[str] = None,
        qk_norm_weight: bool = False,
        qkv_bias: bool = True,
        ffn_bias: bool = True,
        adaln_bias: bool = True,
        adaln_type: str = "normal",
        adaln_lora_dim: Optional[int] = None,
        rope_theta: float = 10000.0,
        custom_freqs: str = "normal",
        max_pe_len_h: Optional[int] = None,
        max_pe_len_w: Optional[int] = None,
        decouple: bool = False,
        ori_max_pe_len: Optional[int] = None,
        online_rope: bool = False,
        add_rel_pe_to_v: bool = False,
        pretrain_ckpt: Optional[str] = None,
        ignore_keys: Optional[list] = None,
        finetune: Optional[str] = None,
        time_shifting: int = 1,
        **kwargs,
    ):
        super().__init__()
        if learn_sigma and use_sit:
            raise ValueError("learn_sigma and use_sit are mutually exclusive")
        if custom_freqs is None:
            custom_freqs = "normal"
        if custom_freqs.lower() not in rope_mod.ROPE_MODES:
            raise ValueError(f"unknown custom_freqs {custom_freqs!r}")
        self.config = {k: v for k, v in locals().items() if k in CONFIG_KEYS}
        self.context_size = context_size
        self.patch_size = patch_size
        self.in_channels = in_channels
        self.out_channels = in_channels * 2 if learn_sigma else in_channels
        self.hidden_size = hidden_size
        self.depth = depth
        self.num_heads = num_heads
        self.head_dim = hidden_size // num_heads
        self.num_classes = num_classes
        self.class_dropout_prob = class_dropout_prob
        self.learn_sigma = learn_sigma
        self.use_sit = use_sit
        self.use_checkpoint = use_checkpoint
        self.adaln_type = adaln_type
        self.time_shifting = time_shifting
        # RoPE configuration (tables are built per forward from the target grid size)
        self.rope_theta = float(rope_theta)
        self.custom_freqs = custom_freqs.lower()
        self.max_pe_len_h = max_pe_len_h
        self.max_pe_len_w = max_pe_len_w
        self.decouple = bool(decouple)
        self.ori_max_pe_len = ori_max_pe_len
        self.online_rope = online_rope

        self.x_embedder = PatchEmbedder(in_channels * patch_size ** 2, hidden_size, bias=True)
        self.t_embedder = TimestepEmbedder(hidden_size)
        self.y_embedder = LabelEmbedder(num_classes, hidden_size, class_dropout_prob)
        if adaln_type == "lora":
            self.global_adaLN_modulation = nn.Sequential(
                nn.SiLU(), nn.Linear(hidden_size, 6 * hidden_size, bias=adaln_bias))
        else:
            self.global_adaLN_modulation = None
        self.blocks = nn.ModuleList([
            FiTBlock(hidden_size, num_heads, mlp_ratio=mlp_ratio, swiglu=use_swiglu,
                     swiglu_large=use_swiglu_large, rel_pos_embed=rel_pos_embed,
                     add_rel_pe_to_v=add_rel_pe_to_v, norm_layer=norm_type, q_norm=q_norm,
                     k_norm=k_norm, qk_norm_weight=qk_norm_weight, qkv_bias=qkv_bias,
                     ffn_bias=ffn_bias, adaln_bias=adaln_bias, adaln_type=adaln_type,
                     adaln_lora_dim=adaln_lora_dim)
            for _ in range(depth)
        ])
        self.final_layer = FinalLayer(hidden_size, patch_size, self.out_channels,
                                      norm_layer=norm_type, adaln_bias=adaln_bias,
                                      adaln_type=adaln_type)

    # -- RoPE ----------------------------------------------------------------------------------

    def effective_ori_max_pe_len(self) -> int:
        if self.ori_max_pe_len is not None:
            return int(self.ori_max_pe_len)
        return int(math.sqrt(self.context_size))

    def rope_tables(self, grid: torch.Tensor, pe_hw: Optional[Tuple[int, int]] = None,
                    size: Optional[torch.Tensor] = None, dtype=torch.float64):
        """cos/sin (B, 1, N, head_dim) for ``grid``.

        Frequencies depend on the target grid size (h, w) the model is built for. Its source,
        by priority: ``pe_hw`` argument; ``online_rope`` with ``size`` (per sample);
        ``max_pe_len_h/w`` from the config; else (max row + 1, max col + 1) of ``grid``.
        The tables are computed in float64 and cast to ``dtype``.
        """
        mode = self.custom_freqs
        ori = self.effective_ori_max_pe_len()
        kw = dict(theta=self.rope_theta, decouple=self.decouple, ori_max_pe_len=ori)
        if pe_hw is None and self.online_rope and size is not None:
            sz = size.reshape(size.shape[0], -1)[:, :2]
            fhs, fws, ms = [], [], []
            for h, w in sz.tolist():
                fh, fw, m = rope_mod.rope_params(mode, self.head_dim, int(h), int(w), **kw)
                fhs.append(fh); fws.append(fw); ms.append(m)
            cos, sin = rope_mod.cos_sin_from_grid(grid, torch.stack(fhs), torch.stack(fws),
                                                  torch.tensor(ms, dtype=torch.float64))
        else:
            if pe_hw is None:
                if self.max_pe_len_h is not None and self.max_pe_len_w is not None:
                    pe_hw = (int(self.max_pe_len_h), int(self.max_pe_len_w))
                else:
                    pe_hw = (int(grid[:, 1].max()) + 1, int(grid[:, 0].max()) + 1)
            fh, fw, m = rope_mod.rope_params(mode, self.head_dim, pe_hw[0], pe_hw[1], **kw)
            cos, sin = rope_mod.cos_sin_from_grid(grid, fh, fw, m)
        return cos.to(dtype)[:, None], sin.to(dtype)[:, None]

    # -- forward -------------------------------------------------------------------------------

    def unpatchify(self, x: torch.Tensor, hw: Tuple[int, int]) -> torch.Tensor:
        """Tokens -> (B, C_out, H, W); ``hw`` in pixels/latent cells like the official method."""
        p = self.patch_size
        h, w = hw[0] // p, hw[1] // p
        if not self.use_sit:
            x = x.transpose(1, 2)
        return tokens_to_image(x, h, w, p)

    def forward(self, x, t, y, grid, mask=None, size=None, pe_hw=None):
        """Token-level forward with the official signature.

        x: (B, N, p*p*C) if use_sit else (B, p*p*C, N);  t: (B,);  y: (B,) int;
        grid: (B, 2, N) int (grid[:,0] = column, grid[:,1] = row);  mask: (B, N) or None (all ones).
        Returns (B, N, p*p*C_out) if use_sit else (B, p*p*C_out, N).
        """
        dtype = self.x_embedder.proj.weight.dtype
        x = x.to(dtype)
        if not self.use_sit:
            x = x.transpose(1, 2)
        t = t.to(dtype)
        if self.use_sit:
            # v2 only (deliberate deviation, see module docstring): flow time shift + clamp
            ts = self.time_shifting
            t = torch.clamp(ts * t / (1 + (ts - 1) * t), max=1.0)
        if mask is not None:
            mask = mask.to(dtype)

        h = self.x_embedder(x)
        c = self.t_embedder(t) + self.y_embedder(y.long(), self.training)
        cos, sin = self.rope_tables(grid, pe_hw=pe_hw, size=size, dtype=dtype)
        g = self.global_adaLN_modulation(c) if self.global_adaLN_modulation is not None else None
        for blk in self.blocks:
            h = blk(h, c, mask, cos, sin, g)
        out = self.final_layer(h, c)
        if mask is not None:
            out = out * mask[..., None]
        if not self.use_sit:
            out = out.transpose(1, 2)
        return out


# ----------------------------------------------------------------------------------------------
# image <-> token helpers
# ----------------------------------------------------------------------------------------------

def image_to_tokens(x: torch.Tensor, p: int) -> torch.Tensor:
    """(B, C, H, W) -> (B, N, C*p*p); token n = row*w + col, channels ordered (c p1 p2)."""
    B, C, H, W = x.shape
    assert H % p == 0 and W % p == 0, "spatial size must be a multiple of the patch size"
    h, w = H // p, W // p
    x = x.reshape(B, C, h, p, w, p).permute(0, 2, 4, 1, 3, 5)   # B h w C p1 p2
    return x.reshape(B, h * w, C * p * p)


def tokens_to_image(x: torch.Tensor, h: int, w: int, p: int) -> torch.Tensor:
    """(B, N, C*p*p) -> (B, C, h*p, w*p) (inverse of image_to_tokens)."""
    B, N, K = x.shape
    C = K // (p * p)
    x = x.reshape(B, h, w, C, p, p).permute(0, 3, 1, 4, 2, 5)    # B C h p1 w p2
    return x.reshape(B, C, h * p, w * p)


def forward_image(model: FiT, x_bchw: torch.Tensor, t: torch.Tensor, y: torch.Tensor,
                  mask: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Run ``model`` on a latent/pixel grid (B, C, H, W) -> (B, C_out, H, W).

    The RoPE tables use (h, w) = (H/p, W/p) as the target size, exactly as the official samplers
    build the model per resolution (max_pe_len_h = h, max_pe_len_w = w).
    """
    p = model.patch_size
    B, _, H, W = x_bchw.shape
    h, w = H // p, W // p
    tok = image_to_tokens(x_bchw, p)
    if not model.use_sit:
        tok = tok.transpose(1, 2)
    grid = rope_mod.row_major_grid(h, w, B, device=x_bchw.device)
    out = model(tok, t, y, grid, mask, pe_hw=(h, w))
    if not model.use_sit:
        out = out.transpose(1, 2)
    return tokens_to_image(out, h, w, p)


def flop_count(cfg: dict, tokens: int, batch: int = 1) -> int:
    """FLOPs (2 x MACs) of one forward: every Linear plus attention QK^T and AV."""
    D = cfg.get("hidden_size", 1152)
    depth = cfg.get("depth", 28)
    p = cfg.get("patch_size", 2)
    cin = cfg.get("in_channels", 4)
    ratio = cfg.get("mlp_ratio", 4.0)
    learn_sigma = cfg.get("learn_sigma", True)
    adaln = cfg.get("adaln_type", "normal")
    r = cfg.get("adaln_lora_dim")
    hidden = int(D * ratio)
    if cfg.get("use_swiglu", False):
        fh = hidden if cfg.get("use_swiglu_large", False) else (hidden * 2) // 3
        ffn = 3 * D * fh
    else:
        ffn = 2 * D * hidden
    N = tokens
    cout = cin * (2 if learn_sigma else 1)
    per_token = p * p * cin * D + depth * (3 * D * D + D * D + ffn) + D * p * p * cout
    attn = depth * 2 * N * N * D          # QK^T and AV over all heads
    per_sample = 256 * D + D * D + 2 * D * D   # t_embedder MLP + final adaLN
    if adaln == "lora":
        per_sample += 6 * D * D + depth * (D * r + r * 6 * D)
    elif adaln == "swiglu":
        hb, hf = (D // 4) * 3, D // 2
        per_sample += depth * (2 * D * hb + hb * 6 * D) + (2 * D * hf + hf * 2 * D) - 2 * D * D
    else:
        per_sample += depth * 6 * D * D
    macs = batch * (N * per_token + attn + per_sample)
    return 2 * macs
