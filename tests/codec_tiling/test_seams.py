"""Reassembled tiles show no seams: on a trained codec the error along the cuts between tiles
is no worse than inside them, thanks to the margin (without it, the cuts show)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from codec import CodecArchitecture, LearnedCodec, build_codec
from codec.images import load_images, to_pixels, to_tensor
from codec.tiled_codec import TiledCodec
from codec.tiling import TileGrid, seam_errors

TILE = 64  # small tiles: many seams on a small image
BAND = 2  # pixels each side of a cut


@pytest.fixture(scope="module")
def trained() -> LearnedCodec:
    """A tiny codec trained for a few hundred steps (~30 s on one thread)."""
    from codec.training import TrainingConfig, train

    torch.manual_seed(0)
    model = build_codec(CodecArchitecture(16, 16, 2, "residual", "gelu", hyperprior=False))
    config = TrainingConfig(steps=300, batch_size=8, crop_size=64, learning_rate=2e-3, lmbda=0.01)
    train(model, load_images("skimage:coffee,chelsea,rocket"), config)
    return model


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    return load_images("skimage:astronaut")[0].pixels[:320, :320]  # not seen in training


def _seam_excess(model: LearnedCodec, image: np.ndarray, margin: int) -> tuple[float, float]:
    """(band MSE / interior MSE of the tiled decode, the same ratio normalised by that of
    the image coded whole, which factors out where the content is hard)."""
    grid = TileGrid(image.shape[0], image.shape[1], tile=TILE, margin=margin)
    tiled = TiledCodec(model, tile=TILE, margin=margin, workers=1)
    band, interior = seam_errors(image, tiled.decode(tiled.encode(image)), grid, BAND)
    whole = to_pixels(model.decompress(model.compress(to_tensor(image))))
    whole_band, whole_interior = seam_errors(image, whole, grid, BAND)
    ratio = band / interior
    return ratio, ratio / (whole_band / whole_interior)


@pytest.mark.slow
def test_border_error_is_not_worse_than_interior(trained: LearnedCodec, image: np.ndarray) -> None:
    ratio, excess = _seam_excess(trained, image, margin=4)
    # measured here: ratio 1.00, excess 1.04
    assert ratio < 1.2, ratio
    assert excess < 1.15, excess


@pytest.mark.slow
def test_without_a_margin_the_seams_show(trained: LearnedCodec, image: np.ndarray) -> None:
    # The measure above can see seams: with no margin the cut error is far higher.
    ratio, excess = _seam_excess(trained, image, margin=0)
    # measured here: ratio 1.84, excess 1.74
    assert excess > 1.3, excess
    assert ratio > 1.3, ratio
