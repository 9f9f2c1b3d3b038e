"""2x down- and up-sampling layers of the transforms.

- "conv": Balle et al.'s 5x5 stride-2 convolution down, 5x5 stride-2 transposed convolution
  (output_padding 1, so sizes exactly double) up.
- "pixel_shuffle": space-to-depth then a 1x1 convolution down; a 1x1 convolution then
  depth-to-space up. Cheap: 4 * C_in * C_out MACs per low-resolution position.
- "haar": the same graph with the 1x1 weights expressed in the orthonormal 2x2 Haar basis
  (LL, LH, HL, HH per channel), as PICO resamples. The Haar transform is linear and fixed, so
  it is multiplied into the 1x1 weights on the fly, and fold() returns the pixel-shuffle layer
  with identical output. The difference from "pixel_shuffle" is in training only: initial
  weights and Adam's per-coordinate steps act on frequency bands instead of pixel positions.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from codec.architecture import ResamplingKind

# Rows: LL, LH, HL, HH over the 2x2 positions (0,0), (0,1), (1,0), (1,1) in pixel-unshuffle's
# channel order. Orthonormal and symmetric: its own inverse.
HAAR_2X2 = 0.5 * torch.tensor(
    [[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, -1.0, -1.0], [1.0, -1.0, 1.0, -1.0], [1.0, -1.0, -1.0, 1.0]]
)
CONV_KERNEL = 5


class UnshuffleConv(nn.Module):
    """(B,C,H,W) -> pixel_unshuffle -> (B,4C,H/2,W/2) -> 1x1 conv -> (B,out,H/2,W/2)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(4 * in_channels, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.pixel_unshuffle(x, 2))


class ConvShuffle(nn.Module):
    """(B,C,h,w) -> 1x1 conv -> (B,4*out,h,w) -> pixel_shuffle -> (B,out,2h,2w)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, 4 * out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pixel_shuffle(self.conv(x), 2)


def _haar_on_inputs(weight: torch.Tensor) -> torch.Tensor:
    """1x1 weights (out, 4C, 1, 1) acting on Haar bands -> weights acting on unshuffled pixels."""
    out_ch, in4 = weight.shape[:2]
    haar = HAAR_2X2.to(device=weight.device, dtype=weight.dtype)
    return (weight.view(out_ch, in4 // 4, 4) @ haar).view(out_ch, in4, 1, 1)


def _haar_on_outputs(weight: torch.Tensor, bias: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """1x1 weights and bias producing Haar bands -> producing pixels to shuffle (inverse Haar)."""
    out4, in_ch = weight.shape[:2]
    haar = HAAR_2X2.to(device=weight.device, dtype=weight.dtype)
    w = (haar.T @ weight.view(out4 // 4, 4, in_ch)).view(out4, in_ch, 1, 1)
    b = (haar.T @ bias.view(out4 // 4, 4, 1)).view(out4)
    return w, b


class HaarDown(UnshuffleConv):
    """Haar analysis (2x2, orthonormal) then a 1x1 conv over the bands."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = _haar_on_inputs(self.conv.weight)
        return F.conv2d(F.pixel_unshuffle(x, 2), weight, self.conv.bias)

    @torch.no_grad()
    def fold(self) -> UnshuffleConv:
        folded = UnshuffleConv(self.conv.in_channels // 4, self.conv.out_channels)
        folded.conv.weight.copy_(_haar_on_inputs(self.conv.weight))
        assert self.conv.bias is not None and folded.conv.bias is not None
        folded.conv.bias.copy_(self.conv.bias)
        return folded.to(self.conv.weight.device)


class HaarUp(ConvShuffle):
    """A 1x1 conv to Haar bands then Haar synthesis (2x2, orthonormal)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert self.conv.bias is not None
        weight, bias = _haar_on_outputs(self.conv.weight, self.conv.bias)
        return F.pixel_shuffle(F.conv2d(x, weight, bias), 2)

    @torch.no_grad()
    def fold(self) -> ConvShuffle:
        folded = ConvShuffle(self.conv.in_channels, self.conv.out_channels // 4)
        assert self.conv.bias is not None and folded.conv.bias is not None
        weight, bias = _haar_on_outputs(self.conv.weight, self.conv.bias)
        folded.conv.weight.copy_(weight)
        folded.conv.bias.copy_(bias)
        return folded.to(self.conv.weight.device)


def downsample(kind: ResamplingKind, in_channels: int, out_channels: int) -> nn.Module:
    if kind == "conv":
        return nn.Conv2d(in_channels, out_channels, CONV_KERNEL, stride=2, padding=CONV_KERNEL // 2)
    if kind == "pixel_shuffle":
        return UnshuffleConv(in_channels, out_channels)
    if kind == "haar":
        return HaarDown(in_channels, out_channels)
    raise ValueError(f"unknown resampling {kind!r}")


def upsample(kind: ResamplingKind, in_channels: int, out_channels: int) -> nn.Module:
    if kind == "conv":
        return nn.ConvTranspose2d(
            in_channels,
            out_channels,
            CONV_KERNEL,
            stride=2,
            padding=CONV_KERNEL // 2,
            output_padding=1,
        )
    if kind == "pixel_shuffle":
        return ConvShuffle(in_channels, out_channels)
    if kind == "haar":
        return HaarUp(in_channels, out_channels)
    raise ValueError(f"unknown resampling {kind!r}")
