"""The weights of the distortion terms (codec/losses.py), with no torch: specs validate them."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass

LOSS_NAMES = ("mse", "ms_ssim", "tiling", "text")


@dataclass(frozen=True)
class LossWeights:
    mse: float = 1.0
    ms_ssim: float = 0.0
    tiling: float = 0.0
    text: float = 0.0

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ValueError(f"loss weight {name} must be finite and >= 0, got {value!r}")
        if self.mse + self.ms_ssim + self.text == 0:
            raise ValueError(
                f"at least one of the loss weights mse, ms_ssim, text must be > 0, got {self}"
            )

    @classmethod
    def from_mapping(cls, weights: Mapping[str, float]) -> LossWeights:
        """From a spec's `loss: {mse: 1.0, text: 0.5}`; unnamed terms are 0, unknown names fail."""
        unknown = sorted(set(weights) - set(LOSS_NAMES))
        if unknown:
            raise ValueError(f"unknown loss term(s) {unknown}; expected names from {LOSS_NAMES}")
        return cls(**{name: float(weights.get(name, 0.0)) for name in LOSS_NAMES})
