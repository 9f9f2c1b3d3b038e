"""One-shot context model: means (and quantization widths) refined in a fixed number of passes.

The scales come from the integer scale decoder in one pass, so the entropy coder's tables never
depend on this float network and all symbols decode at once. The symbols are residuals
r = round((y - mean) / width), and y_hat = r * width + mean is rebuilt afterwards in passes:

- channel groups are decoded one after the other; a group sees every earlier group whole;
- inside a group, positions are split by a spatial grid (He et al.'s checkerboard: 2 passes;
  a 2x2 grid: 4 passes) and each pass sees the positions of the earlier passes.

A mean-scale hyperprior is the same model with one spatial pass. Per group: one 3x3 conv of the
hyper features (and earlier groups) once, a 3x3 conv of the visible part of the group in every
pass but the first (which sees nothing of it), and a two-layer 1x1 head in every pass.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from codec.architecture import CodecArchitecture
from codec.blocks import make_activation
from codec.entropy.lower_bound import lower_bound
from codec.transforms import hyper_feature_transform

# Positions (row % 2, col % 2) of each pass of the 2x2 grid: the diagonal first, so the second
# pass sees four diagonal neighbours and the last two see four direct ones.
GRID_2X2_ORDER = ((0, 0), (1, 1), (0, 1), (1, 0))
MIN_WIDTH = 0.05
# softplus(0.5413) = 1: a learned width starts as the plain unit quantizer.
WIDTH_OFFSET = 0.5413

# step(group, pass, mean, width, mask) -> y_hat of the group's positions in this pass (others
# are ignored): how training, the encoder and the decoder each turn a prediction into values.
PassStep = Callable[[int, int, torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def pass_masks(passes: int, height: int, width: int, device: torch.device) -> list[torch.Tensor]:
    """(1,1,H,W) float masks, one per pass, partitioning the positions."""
    rows = torch.arange(height, device=device).view(-1, 1)
    cols = torch.arange(width, device=device).view(1, -1)
    if passes == 1:
        masks = [torch.ones(height, width, dtype=torch.bool, device=device)]
    elif passes == 2:
        anchor = (rows + cols) % 2 == 0
        masks = [anchor, ~anchor]
    elif passes == 4:
        masks = [(rows % 2 == a) & (cols % 2 == b) for a, b in GRID_2X2_ORDER]
    else:
        raise ValueError(f"passes must be 1, 2 or 4, got {passes}")
    return [m.to(torch.float32).view(1, 1, height, width) for m in masks]


class GroupNet(nn.Module):
    """Mean (and width) of one channel group from hyper features, earlier groups, and context."""

    def __init__(
        self,
        in_channels: int,
        channels: int,
        hidden: int,
        passes: int,
        learned_width: bool,
        arch: CodecArchitecture,
    ) -> None:
        super().__init__()
        self.channels = channels
        self.learned_width = learned_width
        self.hyper_in = nn.Conv2d(in_channels, hidden, 3, padding=1)
        self.spatial_in = (
            nn.Conv2d(channels, hidden, 3, padding=1, bias=False) if passes > 1 else None
        )
        outputs = channels * (2 if learned_width else 1)
        self.head = nn.Sequential(
            make_activation(arch.activation),
            nn.Conv2d(hidden, hidden, 1),
            make_activation(arch.activation),
            nn.Conv2d(hidden, outputs, 1),
        )

    def predict(self, base: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.head(base)
        if not self.learned_width:
            return out, torch.ones_like(out)
        mean, raw = out.split(self.channels, dim=1)
        return mean, lower_bound(F.softplus(raw + WIDTH_OFFSET), MIN_WIDTH)


class ContextModel(nn.Module):
    def __init__(self, arch: CodecArchitecture) -> None:
        super().__init__()
        hc = arch.effective_hyper_channels
        self.passes = arch.spatial_passes
        self.group_channels = arch.group_channels
        self.hyper = hyper_feature_transform(arch)
        nets = []
        earlier = 0
        for channels in self.group_channels:
            nets.append(GroupNet(hc + earlier, channels, hc, self.passes, arch.learned_width, arch))
            earlier += channels
        self.groups = nn.ModuleList(nets)

    def run(self, z_hat: torch.Tensor, step: PassStep) -> torch.Tensor:
        """y_hat (B,M,h,w) built group by group, pass by pass, with `step` quantizing."""
        features = self.hyper(z_hat)
        b, _, h, w = features.shape
        masks = pass_masks(self.passes, h, w, features.device)
        done: list[torch.Tensor] = []
        for g, net in enumerate(self.groups):
            assert isinstance(net, GroupNet)
            base = net.hyper_in(torch.cat([features, *done], dim=1))
            current = features.new_zeros(b, net.channels, h, w)
            for k, mask in enumerate(masks):
                context = base
                if k > 0:
                    assert net.spatial_in is not None
                    context = base + net.spatial_in(current)  # zero where not yet decoded
                mean, width = net.predict(context)
                current = current + mask * step(g, k, mean, width, mask)
            done.append(current)
        return torch.cat(done, dim=1)

    def dequantize(self, y_symbols: torch.Tensor, z_hat: torch.Tensor) -> torch.Tensor:
        """y_hat from the decoded residual symbols: r * width + mean, pass by pass."""
        slices = self.group_slices()

        def step(
            g: int, _: int, mean: torch.Tensor, width: torch.Tensor, mask: torch.Tensor
        ) -> torch.Tensor:
            return y_symbols[:, slices[g]] * width + mean

        return self.run(z_hat, step)

    def group_slices(self) -> list[slice]:
        slices, start = [], 0
        for channels in self.group_channels:
            slices.append(slice(start, start + channels))
            start += channels
        return slices
