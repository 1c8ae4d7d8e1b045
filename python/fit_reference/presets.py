"""Released FiT / FiTv2 network configurations (official constructor parameter names).

Values come from the official YAML files configs/fit/config_fit_xl.yaml and
configs/fitv2/config_fitv2_{xl,3B,hr_xl,hr_3B}.yaml (network_config.params), with every
parameter the YAML leaves out filled in with the official constructor default, so each dict is
complete. Training-only keys (pretrain_ckpt, ignore_keys, finetune, abs_pos_embed) are omitted.
The HR configs train with online RoPE (ntk-aware, decouple, ori 16); at inference the samplers
rebuild the model with online_rope False and the chosen interpolation.
"""

from __future__ import annotations

import copy

_COMMON = dict(
    context_size=256,
    patch_size=2,
    in_channels=4,
    mlp_ratio=4.0,
    class_dropout_prob=0.1,
    num_classes=1000,
    use_checkpoint=False,
    rel_pos_embed="rope",
    norm_type="layernorm",
    qkv_bias=True,
    ffn_bias=True,
    adaln_bias=True,
    rope_theta=10000.0,
    custom_freqs="normal",
    max_pe_len_h=None,
    max_pe_len_w=None,
    decouple=False,
    ori_max_pe_len=None,
    online_rope=False,
    add_rel_pe_to_v=False,
    time_shifting=1,
)

_V1 = dict(
    learn_sigma=True,
    use_sit=False,
    use_swiglu=True,
    use_swiglu_large=True,
    q_norm=None,
    k_norm=None,
    qk_norm_weight=False,
    adaln_type="normal",
    adaln_lora_dim=None,
)

_V2 = dict(
    learn_sigma=False,
    use_sit=True,
    use_swiglu=True,
    use_swiglu_large=False,
    q_norm="layernorm",
    k_norm="layernorm",
    qk_norm_weight=False,
    adaln_type="lora",
)

_HR = dict(
    context_size=1024,
    custom_freqs="ntk-aware",
    decouple=True,
    ori_max_pe_len=16,
    online_rope=True,
)

PRESETS = {
    "fitv1-xl": {**_COMMON, **_V1, "hidden_size": 1152, "depth": 28, "num_heads": 16},
    "fitv2-xl": {**_COMMON, **_V2, "hidden_size": 1152, "depth": 36, "num_heads": 16,
                 "adaln_lora_dim": 288},
    "fitv2-3b": {**_COMMON, **_V2, "hidden_size": 2304, "depth": 40, "num_heads": 24,
                 "adaln_lora_dim": 576},
    "fitv2-hr-xl": {**_COMMON, **_V2, **_HR, "hidden_size": 1152, "depth": 36, "num_heads": 16,
                    "adaln_lora_dim": 288},
    "fitv2-hr-3b": {**_COMMON, **_V2, **_HR, "hidden_size": 2304, "depth": 40, "num_heads": 24,
                    "adaln_lora_dim": 576, "use_checkpoint": True},
}

# Expected (tensor count, parameter count) of the released state dicts.
EXPECTED_COUNTS = {
    "fitv1-xl": (347, 823_599_392),
    "fitv2-xl": (517, 671_045_776),
    "fitv2-3b": (573, 2_971_928_080),
    "fitv2-hr-xl": (517, 671_045_776),
    "fitv2-hr-3b": (573, 2_971_928_080),
}


def preset_config(name: str, **overrides) -> dict:
    """A fresh copy of preset ``name`` with ``overrides`` applied."""
    cfg = copy.deepcopy(PRESETS[name])
    cfg.update(overrides)
    return cfg
