"""Analytic MACs per pixel equal torch's FLOP count of the built encoder and decoder graphs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from codec import CodecArchitecture, build_codec
from codec.architecture import StageSpec
from codec.macs import block_macs, macs_per_pixel

from .helpers import ROUND_TRIP_ARCHITECTURES, pico_variant

TILE = (64, 128)

ARCHITECTURES = {
    "basic_factorized": ROUND_TRIP_ARCHITECTURES[0],
    "basic_hyperprior": ROUND_TRIP_ARCHITECTURES[1],
    "basic_inverted_5x5": ROUND_TRIP_ARCHITECTURES[3],
    "pico_context_checkerboard": pico_variant(),
    "pico_context_2x2_groups_width": pico_variant(
        context_grid="2x2", channel_groups=4, learned_width=True, resampling="pixel_shuffle"
    ),
    "pico_mean_scale_groups_conv": pico_variant(
        entropy_model="mean_scale_hyperprior", channel_groups=2, resampling="conv"
    ),
    "pico_factorized_variable_rate": pico_variant(entropy_model="factorized", rate_points=3),
    "four_stages_per_level_specs": CodecArchitecture(
        8,
        16,
        4,
        "residual",
        "relu",
        hyperprior=True,
        hyper_channels=12,
        encoder_stages=(StageSpec(8, 1), StageSpec(12, 2, kernel_size=5), StageSpec(14, 0)),
        decoder_stages=(StageSpec(6, 2), StageSpec(10, 1), StageSpec(12, 1, kernel_size=7)),
        entropy_model="scale_hyperprior",
        resampling="haar",
    ),
}


def _counted_macs_per_pixel(module: torch.nn.Module, inputs: tuple[torch.Tensor, ...]) -> float:
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module.eval()(*inputs)
    return counter.get_total_flops() / 2 / (TILE[0] * TILE[1])  # a MAC is two FLOPs


@pytest.mark.parametrize("arch", ARCHITECTURES.values(), ids=ARCHITECTURES.keys())
def test_analytic_macs_equal_the_counted_graphs(arch: CodecArchitecture) -> None:
    torch.manual_seed(0)
    model = build_codec(arch)
    analytic = macs_per_pixel(arch)
    encoder = _counted_macs_per_pixel(model.encoder_graph(), model.encoder_example_inputs(*TILE))
    decoder = _counted_macs_per_pixel(model.decoder_graph(), model.decoder_example_inputs(*TILE))
    assert analytic.encoder == pytest.approx(encoder, rel=1e-6)
    assert analytic.decoder == pytest.approx(decoder, rel=1e-6)
    assert analytic.encoder >= analytic.decoder * 0.5 > 0


def test_block_macs_vectorise_over_configs() -> None:
    channels = np.array([16, 32, 64])
    expansion = np.array([1, 4, 6])
    kernel = np.array([3, 5, 7])
    vectorised = block_macs("convscale", channels, expansion, kernel)
    one_by_one = [
        block_macs("convscale", int(c), int(e), int(k))
        for c, e, k in zip(channels, expansion, kernel, strict=True)
    ]
    assert vectorised.tolist() == one_by_one
    with pytest.raises(ValueError, match="'transformer'"):
        block_macs("transformer", 8, 1, 3)


def test_more_passes_and_widths_cost_more() -> None:
    checkerboard = macs_per_pixel(pico_variant()).decoder
    grid = macs_per_pixel(pico_variant(context_grid="2x2")).decoder
    width = macs_per_pixel(pico_variant(context_grid="2x2", learned_width=True)).decoder
    assert checkerboard < grid < width
