"""FiT / FiTv2 reference implementation (PyTorch, CPU) for the FiT Explorer project."""

from .model import (CONFIG_KEYS, FiT, flop_count, forward_image, image_to_tokens,
                    timestep_embedding, tokens_to_image)
from .presets import PRESETS, preset_config
from . import rope
from . import sampling

__all__ = [
    "CONFIG_KEYS", "FiT", "PRESETS", "flop_count", "forward_image", "image_to_tokens",
    "preset_config", "rope", "sampling", "timestep_embedding", "tokens_to_image",
]
