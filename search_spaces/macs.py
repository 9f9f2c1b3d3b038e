"""MACs per pixel of any config of any registered space, computed without building the codec.

Screening by MACs (PICO kept 32.7-48 kMACs/px of decoder out of 1.4M configs) must not cost a
model per config: this maps the config to its architecture and counts analytically
(codec.macs, tested against torch's FLOP counter on the built graphs).
"""

from __future__ import annotations

from codec.macs import MacsPerPixel, macs_per_pixel
from search_spaces.registry import get_space
from search_spaces.space import Config, SearchSpace


def config_macs(space: SearchSpace | str, config: Config) -> MacsPerPixel:
    """Encoder and decoder MACs per pixel; raises ConfigError for a config outside the space."""
    resolved = get_space(space) if isinstance(space, str) else space
    return macs_per_pixel(resolved.architecture(config))
