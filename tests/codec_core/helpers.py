"""Helpers of the codec core tests: small architectures and real photos."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch
from skimage import data
from torch import nn

from codec import CodecArchitecture, LearnedCodec, build_codec
from codec.architecture import StageSpec

# Each block type, each activation, hyperprior on and off, stages 2..4.
ROUND_TRIP_ARCHITECTURES = [
    CodecArchitecture(8, 12, 2, "conv", "relu", hyperprior=False),
    CodecArchitecture(8, 12, 3, "residual", "gelu", hyperprior=True),
    CodecArchitecture(8, 12, 4, "inverted_residual", "leaky_relu", hyperprior=False, expansion=2),
    CodecArchitecture(
        8,
        12,
        2,
        "inverted_residual",
        "silu",
        hyperprior=True,
        kernel_size=5,
        blocks_per_stage=2,
        hyper_channels=6,
    ),
    CodecArchitecture(8, 12, 3, "conv", "relu", hyperprior=True, blocks_per_stage=0),
]

# A small PICO-style model: ConvScale chains with their own spec per level, Haar resampling,
# a context model; tests vary its entropy-model fields with `pico_variant`.
PICO_STYLE = CodecArchitecture(
    8,
    16,
    3,
    "convscale",
    "relu",
    hyperprior=True,
    hyper_channels=8,
    encoder_stages=(StageSpec(8, 1, 2, 3), StageSpec(12, 1, 2, 5)),
    decoder_stages=(StageSpec(6, 1, 3, 3), StageSpec(10, 2, 2, 3)),
    resampling="haar",
    entropy_model="context",
)


def pico_variant(**changes: object) -> CodecArchitecture:
    """PICO_STYLE with some fields changed; `hyperprior` follows `entropy_model`."""
    arch = replace(PICO_STYLE, **changes)  # type: ignore[arg-type]
    return replace(arch, hyperprior=arch.effective_entropy_model != "factorized")


def photo(height: int, width: int) -> torch.Tensor:
    """A crop of skimage's astronaut photo as (1,3,H,W) in [0,1]."""
    image = np.ascontiguousarray(data.astronaut()[100 : 100 + height, 150 : 150 + width])
    return torch.from_numpy(image).permute(2, 0, 1).float().div(255.0).unsqueeze(0)


def codec_with_spread_latents(arch: CodecArchitecture, seed: int = 0) -> LearnedCodec:
    """An untrained codec whose latents span many integers (untrained ones round to ~0).

    Rescaling the last analysis convolutions gives a real model with large latents (std ~6 on a
    photo), so coding is exercised over many symbols and table levels instead of one; the
    scale decoder's last layer is stretched likewise so its table indexes spread over ~+-7.
    """
    torch.manual_seed(seed)
    model = build_codec(arch, model_id=bytes([seed]) * 16).eval()
    probe = photo(64, 64)
    with torch.no_grad():
        y = model.g_a(probe)
        _rescale(model.g_a[-1], 6.0 / float(y.std()))
        if model.h_a is not None:
            hyper_input = model.g_a(probe)
            if not arch.has_means:
                hyper_input = torch.abs(hyper_input)
            z = model.h_a(hyper_input)
            _rescale(model.h_a[-1], 3.0 / float(z.std()))
            scale_decoder = model.h_s
            assert scale_decoder is not None
            last = scale_decoder.convs[-1]
            last.weight.mul_(30.0)
    model.prepare_for_coding()
    return model


def _rescale(layer: nn.Module, factor: float) -> None:
    # Haar and pixel-shuffle resamplings keep their 1x1 convolution in `.conv`.
    conv = getattr(layer, "conv", layer)
    assert isinstance(conv, nn.Conv2d), conv
    conv.weight.mul_(factor)
    assert conv.bias is not None
    conv.bias.mul_(factor)
