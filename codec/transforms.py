"""Analysis, synthesis and hyper transforms built from a CodecArchitecture.

Level i of the analysis transform (i = 1..stages-1) is a 2x down-sampling to that level's
channels, the activation, then the level's blocks; a last down-sampling goes to the latent.
The synthesis transform mirrors it level by level with its own stage specs. Every resampling
except the one producing the latent (or the image) is followed by the activation, so the
transform stays non-linear even without blocks.
"""

from __future__ import annotations

import torch
from torch import nn

from codec.architecture import (
    CHANNEL_NORMALIZATIONS,
    CodecArchitecture,
    ResamplingKind,
    StageSpec,
)
from codec.blocks import make_activation, make_block, make_level_activation
from codec.resampling import downsample, upsample

HYPER_STAGES = 2  # the hyper transforms down-sample twice more
# The hyper transforms keep Balle's strided convolutions whatever the backbone's resampling:
# they run at 1/16 to 1/64 of the pixels, where their cost hardly matters.
HYPER_RESAMPLING: ResamplingKind = "conv"
# PyTorch's default initialisation shrinks the signal ~2.5x per resampling layer, so a fresh
# 4-stage analysis gives latents of std ~0.04 that all round to 0: the synthesis sees nothing
# but zeros and training spends its first thousands of steps growing the latent. The layer
# that produces the latent starts this much larger (and the synthesis' first layer this much
# smaller, so the initial reconstruction is unchanged): latents of std ~0.5-1 at step 0.
LATENT_INIT_GAIN = 16.0


def _latent_init_gain(arch: CodecArchitecture) -> float:
    """GDN stacks start at the textbook init: their IGDNs grow as x^2 for large inputs, so a
    16x latent with a synthesis input that Adam scales up in a few steps blows up (x_hat 1e8
    after 2 steps at lr 1e-3), while GDN's normalization already keeps the latent alive."""
    return 1.0 if arch.activation in CHANNEL_NORMALIZATIONS else LATENT_INIT_GAIN


def _blocks(arch: CodecArchitecture, spec: StageSpec) -> list[nn.Module]:
    return [
        make_block(arch.block, spec.channels, spec.kernel_size, spec.expansion, arch.activation)
        for _ in range(spec.repeats)
    ]


def analysis_transform(arch: CodecArchitecture) -> nn.Sequential:
    """x (B,3,H,W) -> y (B,M,H/2^s,W/2^s)."""
    layers: list[nn.Module] = []
    in_ch = 3
    for spec in arch.analysis_stages:
        layers += [downsample(arch.resampling, in_ch, spec.channels)]
        layers += [make_level_activation(arch.activation, spec.channels, inverse=False)]
        layers += _blocks(arch, spec)
        in_ch = spec.channels
    gain = _latent_init_gain(arch)
    layers.append(_rescaled(downsample(arch.resampling, in_ch, arch.latent_channels), gain))
    return nn.Sequential(*layers)


def synthesis_transform(arch: CodecArchitecture) -> nn.Sequential:
    """y_hat (B,M,h,w) -> x_hat (B,3,h*2^s,w*2^s); mirrors analysis_transform."""
    layers: list[nn.Module] = []
    in_ch = arch.latent_channels
    gain = _latent_init_gain(arch)
    for index, spec in enumerate(reversed(arch.synthesis_stages)):
        layer = upsample(arch.resampling, in_ch, spec.channels)
        layers += [_rescaled(layer, 1.0 / gain, bias=False) if index == 0 else layer]
        layers += [make_level_activation(arch.activation, spec.channels, inverse=True)]
        layers += _blocks(arch, spec)
        in_ch = spec.channels
    last = upsample(arch.resampling, in_ch, 3)
    layers.append(_rescaled(last, 1.0 / gain, bias=False) if not layers else last)
    return nn.Sequential(*layers)


@torch.no_grad()
def _rescaled(layer: nn.Module, factor: float, bias: bool = True) -> nn.Module:
    """The resampling layer with its initial weights (and bias) multiplied by `factor`."""
    conv = getattr(layer, "conv", layer)  # Haar / pixel-shuffle layers wrap one conv
    assert isinstance(conv, nn.Conv2d | nn.ConvTranspose2d)
    conv.weight.mul_(factor)
    if bias and conv.bias is not None:
        conv.bias.mul_(factor)
    return layer


def hyper_analysis_transform(arch: CodecArchitecture) -> nn.Sequential:
    """y or |y| (B,M,h,w) -> z (B,Nh,h/4,w/4), as CompressAI's hyperprior h_a."""
    hc = arch.effective_hyper_channels
    return nn.Sequential(
        nn.Conv2d(arch.latent_channels, hc, 3, padding=1),
        make_activation(arch.activation),
        downsample(HYPER_RESAMPLING, hc, hc),
        make_activation(arch.activation),
        downsample(HYPER_RESAMPLING, hc, hc),
    )


def hyper_feature_transform(arch: CodecArchitecture) -> nn.Sequential:
    """z_hat (B,Nh,h/4,w/4) -> features (B,Nh,h,w) from which means (and widths) are predicted.

    The float half of PICO's split hyper-decoder (its "context decoder"); the scales come from
    the integer scale decoder instead.
    """
    hc = arch.effective_hyper_channels
    return nn.Sequential(
        upsample(HYPER_RESAMPLING, hc, hc),
        make_activation(arch.activation),
        upsample(HYPER_RESAMPLING, hc, hc),
        make_activation(arch.activation),
    )
