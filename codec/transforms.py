"""Analysis, synthesis and hyper transforms built from a CodecArchitecture.

Resampling follows Balle et al.: 5x5 stride-2 convolutions down, 5x5 stride-2 transposed
convolutions (output_padding 1, so sizes exactly double) up. Every resampling except the one
producing the latent (or the image) is followed by the activation, so the transform stays
non-linear even with blocks_per_stage=0.
"""

from __future__ import annotations

from torch import nn

from codec.architecture import CodecArchitecture
from codec.blocks import make_activation, make_block

HYPER_STAGES = 2  # the hyper transforms down-sample twice more


def downsample(in_ch: int, out_ch: int) -> nn.Conv2d:
    return nn.Conv2d(in_ch, out_ch, 5, stride=2, padding=2)


def upsample(in_ch: int, out_ch: int) -> nn.ConvTranspose2d:
    return nn.ConvTranspose2d(in_ch, out_ch, 5, stride=2, padding=2, output_padding=1)


def _blocks(arch: CodecArchitecture) -> list[nn.Module]:
    return [
        make_block(arch.block, arch.channels, arch.kernel_size, arch.expansion, arch.activation)
        for _ in range(arch.blocks_per_stage)
    ]


def analysis_transform(arch: CodecArchitecture) -> nn.Sequential:
    """x (B,3,H,W) -> y (B,M,H/2^s,W/2^s)."""
    layers: list[nn.Module] = []
    in_ch = 3
    for _ in range(arch.stages - 1):
        layers += [downsample(in_ch, arch.channels), make_activation(arch.activation)]
        layers += _blocks(arch)
        in_ch = arch.channels
    layers.append(downsample(in_ch, arch.latent_channels))
    return nn.Sequential(*layers)


def synthesis_transform(arch: CodecArchitecture) -> nn.Sequential:
    """y_hat (B,M,h,w) -> x_hat (B,3,h*2^s,w*2^s); mirrors analysis_transform."""
    layers: list[nn.Module] = []
    in_ch = arch.latent_channels
    for _ in range(arch.stages - 1):
        layers += [upsample(in_ch, arch.channels), make_activation(arch.activation)]
        layers += _blocks(arch)
        in_ch = arch.channels
    layers.append(upsample(in_ch, 3))
    return nn.Sequential(*layers)


def hyper_analysis_transform(arch: CodecArchitecture) -> nn.Sequential:
    """|y| (B,M,h,w) -> z (B,Nh,h/4,w/4), as CompressAI's scale hyperprior h_a."""
    hc = arch.effective_hyper_channels
    return nn.Sequential(
        nn.Conv2d(arch.latent_channels, hc, 3, padding=1),
        make_activation(arch.activation),
        downsample(hc, hc),
        make_activation(arch.activation),
        downsample(hc, hc),
    )


def hyper_synthesis_transform(arch: CodecArchitecture) -> nn.Sequential:
    """z_hat (B,Nh,h/4,w/4) -> raw scales (B,M,h,w); the lower bound is applied by the caller."""
    hc = arch.effective_hyper_channels
    return nn.Sequential(
        upsample(hc, hc),
        make_activation(arch.activation),
        upsample(hc, hc),
        make_activation(arch.activation),
        nn.Conv2d(hc, arch.latent_channels, 3, padding=1),
    )
