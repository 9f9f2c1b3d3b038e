"""The scale decoder: z_hat -> index of the Gaussian table each latent element is coded with.

The index picks the entropy coder's table, so encoder and decoder must compute it bit for bit
alike on any device. PICO runs this decoder UINT8-quantized on the CPU; here it is trained
quantization-aware (int8 weights per output channel, uint8 activations with a learned step,
integer table index out) and `freeze()` turns it into an IntegerScaleDecoder that runs the same
network in integer arithmetic only.

Layers: two (3x3 conv to 4*H channels, requantise, 2x depth-to-space) then a 3x3 conv to one
table index per latent element. Depth-to-space up-samples without a transposed convolution,
which has no integer kernel in ONNX.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from codec.entropy.gaussian import SCALE_LEVELS, index_to_scale
from codec.entropy.integer_scales import IntegerLayer, IntegerScaleDecoder, requantizer

WEIGHT_MAX = 127  # int8 weights, symmetric
ACTIVATION_MAX = 255  # uint8 activations after the clamping ReLU
Z_MIN, Z_MAX = -128, 127  # int8 input: z_hat is clipped to it (z itself is coded losslessly)
INITIAL_STEP = 4.0 / ACTIVATION_MAX  # activations cover 0..4 at first; the step is learned
# The last layer's bias starts at the index of a scale near 2.4, a typical latent spread.
INITIAL_INDEX = 25.0
UPSAMPLING_LAYERS = 2


def _round_ste(x: torch.Tensor) -> torch.Tensor:
    """round(x) forward, identity backward (straight-through)."""
    return x + (torch.round(x) - x).detach()


def weight_step(weight: torch.Tensor) -> torch.Tensor:
    """Per-output-channel step of symmetric int8 weights: max|w| / 127 (never 0)."""
    amax = weight.detach().abs().amax(dim=(1, 2, 3))
    return amax.clamp_min(1e-8) / WEIGHT_MAX


def _fake_quant_weight(weight: torch.Tensor) -> torch.Tensor:
    step = weight_step(weight).view(-1, 1, 1, 1)
    return _round_ste(weight / step) * step


class ScaleDecoder(nn.Module):
    def __init__(
        self, in_channels: int, hidden: int, out_channels: int, levels: int = SCALE_LEVELS
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.levels = levels
        self.convs = nn.ModuleList(
            [
                nn.Conv2d(in_channels, 4 * hidden, 3, padding=1),
                nn.Conv2d(hidden, 4 * hidden, 3, padding=1),
                nn.Conv2d(hidden, out_channels, 3, padding=1),
            ]
        )
        self.log_steps = nn.Parameter(torch.full((UPSAMPLING_LAYERS,), math.log(INITIAL_STEP)))
        with torch.no_grad():
            last = self.convs[-1]
            assert isinstance(last, nn.Conv2d) and last.bias is not None
            last.bias.fill_(INITIAL_INDEX)

    def _conv(self, index: int, x: torch.Tensor) -> torch.Tensor:
        conv = self.convs[index]
        assert isinstance(conv, nn.Conv2d)
        return F.conv2d(x, _fake_quant_weight(conv.weight), conv.bias, padding=1)

    def continuous_index(self, z_hat: torch.Tensor) -> torch.Tensor:
        """The last layer's output before rounding, in units of table levels."""
        x = z_hat.clamp(Z_MIN, Z_MAX)
        steps = self.log_steps.exp()
        for layer in range(UPSAMPLING_LAYERS):
            acc = self._conv(layer, x)
            # LSQ-style: the step gets its gradient through the straight-through rounding.
            x = steps[layer] * _round_ste(acc / steps[layer]).clamp(0, ACTIVATION_MAX)
            x = F.pixel_shuffle(x, 2)
        return self._conv(UPSAMPLING_LAYERS, x)

    def forward(self, z_hat: torch.Tensor) -> torch.Tensor:
        """Table index of every latent element, as a float tensor with straight-through grads.

        Rounding and clamping pass the gradient unchanged, so an index pushed past either end
        of the table is pulled back by the rate loss.
        """
        t = self.continuous_index(z_hat)
        return t + (torch.round(t).clamp(0, self.levels - 1) - t).detach()

    def scales(self, z_hat: torch.Tensor) -> torch.Tensor:
        """The table scale of every latent element (what coding uses), differentiable."""
        return index_to_scale(self(z_hat))

    @torch.no_grad()
    def freeze(self) -> IntegerScaleDecoder:
        """The integer network computing these indexes (up to the float rounding of training)."""
        steps = [float(s) for s in self.log_steps.exp()]
        in_step = 1.0  # z_hat is already integer
        layers = []
        for index, conv in enumerate(self.convs):
            assert isinstance(conv, nn.Conv2d) and conv.bias is not None
            w_step = weight_step(conv.weight).double()
            weight = torch.round(conv.weight.double() / w_step.view(-1, 1, 1, 1))
            weight = weight.clamp(-WEIGHT_MAX, WEIGHT_MAX)  # float rounding of the step
            bias = torch.round(conv.bias.double() / (in_step * w_step))
            last = index == len(self.convs) - 1
            out_step = 1.0 if last else steps[index]
            multiplier, shift = requantizer(in_step * w_step / out_step)
            layers.append(
                IntegerLayer(
                    weight=weight.to(torch.int8),
                    bias=bias.to(torch.int64),
                    multiplier=multiplier,
                    shift=shift,
                    out_max=self.levels - 1 if last else ACTIVATION_MAX,
                    upsample=not last,
                    signed_input=index == 0,
                    in_step=in_step,
                    weight_step=w_step.float(),
                    out_step=out_step,
                )
            )
            in_step = out_step
        return IntegerScaleDecoder(tuple(layers), z_min=Z_MIN, z_max=Z_MAX)
