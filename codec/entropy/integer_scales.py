"""The scale decoder in integer arithmetic: the same table indexes on every backend.

Each layer: int8 weights convolved with int8 (first layer) or uint8 activations, accumulated
exactly; plus an integer bias; then fixed-point requantisation

    out = clamp(floor(((acc + bias) * multiplier + 2**(shift-1)) / 2**shift), 0, out_max)

with a per-output-channel integer multiplier. Every step is exact integer arithmetic, so any
correct implementation gives the same indexes: here torch (float64 convolutions of integers,
exact below 2**53, then int64), and ONNX Runtime through `integer_scales_onnx` (ConvInteger,
int32 accumulation, int64 requantisation). Accumulators stay below 2**31 for any config
(|int8 * uint8| * 9 * channels, channels <= 2000) and the multiplier below 2**30, so
(acc + bias) * multiplier never leaves int64.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from codec.entropy.gaussian import index_to_scale

MULTIPLIER_BITS = 30
INT32_MAX = (1 << 31) - 1


def requantizer(scale: torch.Tensor) -> tuple[torch.Tensor, int]:
    """(integer multipliers, shift) with multiplier / 2**shift ~ scale, multipliers < 2**30."""
    worst = float(scale.max())
    if not math.isfinite(worst) or worst <= 0 or float(scale.min()) < 0:
        raise ValueError(f"requantisation scales must be finite and >= 0, got max {worst!r}")
    shift = min(max(MULTIPLIER_BITS - 1 - math.floor(math.log2(worst)), 1), 62)
    multiplier = torch.round(scale.double() * 2.0**shift).to(torch.int64)
    return multiplier.clamp_max((1 << MULTIPLIER_BITS) - 1), shift


@dataclass(frozen=True)
class IntegerLayer:
    """One quantized 3x3 convolution (padding 1) with its requantisation."""

    weight: torch.Tensor  # int8 (out, in, 3, 3)
    bias: torch.Tensor  # int64 (out,), in units of in_step * weight_step
    multiplier: torch.Tensor  # int64 (out,)
    shift: int
    out_max: int
    upsample: bool  # 2x depth-to-space after requantisation
    signed_input: bool  # int8 input (the clipped z_hat) instead of uint8 activations
    # Float steps, kept for the float twin only; the integer path never reads them.
    in_step: float
    weight_step: torch.Tensor  # float32 (out,)
    out_step: float

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        """Exact integer layer on an integer-valued float64 tensor; returns int64."""
        acc = F.conv2d(x, self.weight.to(torch.float64), padding=1).to(torch.int64)
        value = (acc + self.bias.clamp(-INT32_MAX, INT32_MAX).view(1, -1, 1, 1)) * (
            self.multiplier.view(1, -1, 1, 1)
        ) + (1 << (self.shift - 1))
        # Negative values clamp to 0 anyway; clamping first makes truncating division (ONNX's
        # integer Div) and flooring agree.
        out = torch.div(value.clamp_min(0), 1 << self.shift, rounding_mode="floor")
        out = out.clamp_max(self.out_max)
        return F.pixel_shuffle(out, 2) if self.upsample else out


class IntegerScaleDecoder:
    """z_hat (1, Nz, h, w) -> int64 table indexes (1, M, 4h, 4w), bit-exact."""

    def __init__(self, layers: tuple[IntegerLayer, ...], z_min: int, z_max: int) -> None:
        self.layers = layers
        self.z_min = z_min
        self.z_max = z_max

    @torch.no_grad()
    def __call__(self, z_hat: torch.Tensor) -> torch.Tensor:
        x = torch.round(z_hat.detach().to(torch.float64)).clamp(self.z_min, self.z_max)
        out = x.to(torch.int64)
        for layer in self.layers:
            out = layer.apply(x)
            x = out.to(torch.float64)
        return out

    def float_twin(self) -> FloatScaleTwin:
        return FloatScaleTwin(self)


class FloatScaleTwin(nn.Module):
    """The scale decoder's float network with the same weights and the same convolutions.

    For export and latency only: it skips the roundings, so its scales are continuous and
    close to, not equal to, the table scales of the integer path. It exists so a benchmark
    graph does the scale decoder's work without integer ops an accelerator may lack.
    """

    def __init__(self, decoder: IntegerScaleDecoder) -> None:
        super().__init__()
        self.z_min, self.z_max = decoder.z_min, decoder.z_max
        self.upsample = [layer.upsample for layer in decoder.layers]
        self.convs = nn.ModuleList()
        self.out_max: list[float] = []
        for layer in decoder.layers:
            out_ch, in_ch = layer.weight.shape[:2]
            conv = nn.Conv2d(in_ch, out_ch, 3, padding=1)
            with torch.no_grad():
                step = layer.weight_step.view(-1, 1, 1, 1)
                conv.weight.copy_(layer.weight.float() * step)
                assert conv.bias is not None
                conv.bias.copy_(layer.bias.float() * layer.in_step * layer.weight_step)
            self.convs.append(conv)
            self.out_max.append(layer.out_max * layer.out_step)

    def forward(self, z_hat: torch.Tensor) -> torch.Tensor:
        x = z_hat.clamp(self.z_min, self.z_max)
        for conv, out_max, upsample in zip(self.convs, self.out_max, self.upsample, strict=True):
            x = conv(x).clamp(0.0, out_max)
            if upsample:
                x = F.pixel_shuffle(x, 2)
        return index_to_scale(x)
