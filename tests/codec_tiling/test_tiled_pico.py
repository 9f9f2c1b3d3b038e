"""Tiling works for every entropy model of the pico space, and at every rate of a
variable-rate codec: each tile decodes alone to exactly what the model gives that region."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from codec import CodecArchitecture, LearnedCodec, build_codec
from codec.architecture import StageSpec
from codec.images import to_pixels, to_tensor
from codec.tiled_codec import TiledCodec
from codec.tiling import TileGrid, crop_margin
from tests.codec_tiling.conftest import photo

# A small PICO-like model: ConvScale chains, Haar resampling, a one-shot context model.
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
    tile_size=64,
    tile_margin=4,
)

VARIANTS = {
    "context checkerboard": PICO_STYLE,
    "context 2x2, groups, learned width": replace(
        PICO_STYLE, context_grid="2x2", channel_groups=2, learned_width=True
    ),
    "mean-scale, pixel shuffle": replace(
        PICO_STYLE, entropy_model="mean_scale_hyperprior", resampling="pixel_shuffle"
    ),
    "factorized": replace(PICO_STYLE, entropy_model="factorized", hyperprior=False),
}


def _prepared(architecture: CodecArchitecture) -> LearnedCodec:
    torch.manual_seed(0)
    model = build_codec(architecture, model_id=b"tiling-pico-0001").eval()
    model.prepare_for_coding()
    return model


def _check_every_tile(
    model: LearnedCodec, codec: TiledCodec, image: np.ndarray, rate: float | None = None
) -> bytes:
    container = codec.encode(image)
    decoded = codec.decode(container)
    grid = TileGrid(image.shape[0], image.shape[1], tile=codec.tile, margin=codec.margin)
    for placement in grid:
        region = to_tensor(image[placement.coded.slices])
        alone = to_pixels(model.decompress(model.compress(region, rate=rate)))
        reference = crop_margin(alone, placement)
        assert np.array_equal(decoded[placement.core.slices], reference), placement.index
        top, left, pixels = codec.decode_tile(container, placement.index)
        assert (top, left) == (placement.core.top, placement.core.left)
        assert np.array_equal(pixels, reference)
    return container


@pytest.mark.parametrize("name", list(VARIANTS))
def test_each_entropy_model_codes_tile_by_tile(name: str) -> None:
    model = _prepared(VARIANTS[name])
    codec = TiledCodec.for_model(model)
    assert (codec.tile, codec.margin) == (64, 4)  # as the architecture names them
    _check_every_tile(model, codec, photo(90, 130))


def test_a_variable_rate_codec_tiles_at_each_rate() -> None:
    model = _prepared(replace(PICO_STYLE, rate_points=3))
    image = photo(90, 130)
    low = _check_every_tile(model, TiledCodec.for_model(model, rate=0.0), image, rate=0.0)
    high = _check_every_tile(model, TiledCodec.for_model(model, rate=2.0), image, rate=2.0)
    assert low != high
