"""Backbone blocks of the analysis/synthesis transforms; all keep shape and are ONNX-exportable."""

from __future__ import annotations

import torch
from torch import nn

from codec.architecture import CHANNEL_NORMALIZATIONS, ActivationName, BlockKind
from codec.convscale import ConvScale
from codec.gdn import GDN

# Initial scale of a ConvScale block's residual branch: small, so a deep chain starts close to
# the identity and trains stably (LayerScale uses 0.1 to 1e-5 depending on depth).
RESIDUAL_SCALE_INIT = 0.1


def make_activation(name: ActivationName) -> nn.Module:
    """The element-wise activation; a GDN-family choice means ReLU inside blocks and hyper
    transforms (the normalization itself goes after the resamplings: `make_level_activation`)."""
    if name == "relu" or name in CHANNEL_NORMALIZATIONS:
        return nn.ReLU()
    if name == "gelu":
        return nn.GELU()
    if name == "leaky_relu":
        return nn.LeakyReLU(0.01)
    if name == "silu":
        return nn.SiLU()
    raise ValueError(f"unknown activation {name!r}")


def make_level_activation(name: ActivationName, channels: int, inverse: bool) -> nn.Module:
    """What follows a resampling of the analysis (inverse=False) or synthesis transform."""
    if name in CHANNEL_NORMALIZATIONS:
        return GDN(channels, inverse=inverse, simplified=name == "simplified_gdn")
    return make_activation(name)


def _same_conv(in_ch: int, out_ch: int, kernel: int, groups: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_ch, out_ch, kernel, padding=kernel // 2, groups=groups)


class ConvBlock(nn.Module):
    """conv kxk + activation."""

    def __init__(self, channels: int, kernel: int, activation: ActivationName) -> None:
        super().__init__()
        self.conv = _same_conv(channels, channels, kernel)
        self.act = make_activation(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv(x))


class ResidualBlock(nn.Module):
    """x + conv(act(conv(x)))."""

    def __init__(self, channels: int, kernel: int, activation: ActivationName) -> None:
        super().__init__()
        self.conv1 = _same_conv(channels, channels, kernel)
        self.act = make_activation(activation)
        self.conv2 = _same_conv(channels, channels, kernel)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(self.act(self.conv1(x)))


class InvertedResidualBlock(nn.Module):
    """MobileNetV2 block without batch norm: 1x1 expand, depthwise kxk, linear 1x1 project, skip.

    With `scaled`, each convolution is a ConvScale (PICO's CS block); fold_for_inference turns
    it back into this plain block with the same output.
    """

    def __init__(
        self,
        channels: int,
        kernel: int,
        expansion: int,
        activation: ActivationName,
        scaled: bool = False,
    ) -> None:
        super().__init__()
        hidden = channels * expansion
        self.expand: nn.Module
        self.depthwise: nn.Module
        self.project: nn.Module
        if scaled:
            self.expand = ConvScale(channels, hidden, 1)
            self.depthwise = ConvScale(hidden, hidden, kernel, groups=hidden)
            self.project = ConvScale(hidden, channels, 1, scale_init=RESIDUAL_SCALE_INIT)
        else:
            self.expand = nn.Conv2d(channels, hidden, 1)
            self.depthwise = _same_conv(hidden, hidden, kernel, groups=hidden)
            self.project = nn.Conv2d(hidden, channels, 1)
        self.act1 = make_activation(activation)
        self.act2 = make_activation(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.project(self.act2(self.depthwise(self.act1(self.expand(x)))))


def make_block(
    kind: BlockKind, channels: int, kernel: int, expansion: int, activation: ActivationName
) -> nn.Module:
    if kind == "conv":
        return ConvBlock(channels, kernel, activation)
    if kind == "residual":
        return ResidualBlock(channels, kernel, activation)
    if kind == "inverted_residual":
        return InvertedResidualBlock(channels, kernel, expansion, activation)
    if kind == "convscale":
        return InvertedResidualBlock(channels, kernel, expansion, activation, scaled=True)
    raise ValueError(f"unknown block kind {kind!r}")
