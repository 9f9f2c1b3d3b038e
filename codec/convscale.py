"""ConvScale: a convolution followed by a learned per-channel scale that folds away at inference.

Training sees conv(x) * s with s a parameter of its own: Adam moves a channel's gain in one
step instead of through every weight of the channel, and a small initial scale on a residual
branch starts a deep chain near the identity (as LayerScale). At inference the scale is
multiplied into the weights and bias, leaving one plain convolution with the same output:
PICO's ConvScale, which its authors found worth 9.6% BD-rate.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class ConvScale(nn.Module):
    """nn.Conv2d(...) then a per-output-channel scale; fold() returns the equivalent conv."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        groups: int = 1,
        scale_init: float = 1.0,
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2d(
            in_channels, out_channels, kernel_size, padding=kernel_size // 2, groups=groups
        )
        self.scale = nn.Parameter(torch.full((out_channels,), float(scale_init)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x) * self.scale.view(1, -1, 1, 1)

    @torch.no_grad()
    def fold(self) -> nn.Conv2d:
        """A new plain conv computing scale * (W x + b) as (scale W) x + scale b."""
        folded = copy.deepcopy(self.conv)
        folded.weight.mul_(self.scale.view(-1, 1, 1, 1))
        assert folded.bias is not None
        folded.bias.mul_(self.scale)
        return folded
