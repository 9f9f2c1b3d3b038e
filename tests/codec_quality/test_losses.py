"""Loss settings, the tile layout, and the errors that the tiling and text losses target."""

from __future__ import annotations

import pytest
import torch

from codec.losses import (
    LossWeights,
    TileLayout,
    rate_distortion_loss,
    seam_error,
    text_region_mse,
)


def test_weights_from_a_spec_mapping() -> None:
    assert LossWeights.from_mapping({"mse": 1.0, "text": 0.5}) == LossWeights(text=0.5)
    assert LossWeights.from_mapping({"ms_ssim": 2}) == LossWeights(mse=0.0, ms_ssim=2.0)
    with pytest.raises(ValueError, match="'lpips'"):
        LossWeights.from_mapping({"lpips": 1.0})
    with pytest.raises(ValueError, match="tiling must be finite and >= 0, got -1"):
        LossWeights(tiling=-1.0)
    with pytest.raises(ValueError, match="at least one"):
        LossWeights(mse=0.0, tiling=1.0)


def test_tiles_reassemble_to_the_canvas() -> None:
    layout = TileLayout(tile=32, margin=4)
    x = torch.rand(2, 3, 64, 64)
    tiles = layout.split(x)
    assert tiles.shape == (8, 3, 32, 32)
    assert torch.equal(layout.assemble(tiles), layout.canvas(x))
    assert layout.canvas(x).shape == (2, 3, 48, 48)
    # tile (0, 1) holds the crop's columns from core - margin ... its margin is real content
    assert torch.equal(tiles[2:4], x[..., 0:32, 24:56])
    with pytest.raises(ValueError, match="smaller than the 56 px layout"):
        layout.split(torch.rand(1, 3, 48, 48))
    with pytest.raises(ValueError, match="tile 12 with margin 4"):
        TileLayout(tile=12, margin=4)


def test_seam_error_sees_steps_not_smooth_errors() -> None:
    x = torch.rand(1, 3, 48, 48)
    assert seam_error(x, x + 0.1, border=24) == pytest.approx(0.0, abs=1e-7)  # same both sides
    ramp = torch.linspace(0, 0.05, 48).view(1, 1, 1, 48)
    smooth = seam_error(x, x + ramp, border=24)
    step = torch.zeros(1, 1, 48, 48)
    step[..., 24:] = 0.05  # right of the vertical border
    stepped = seam_error(x, x + step, border=24)
    assert stepped == pytest.approx(0.5 * 0.05, rel=1e-5)  # one of the two borders steps
    assert stepped > 5 * smooth
    with pytest.raises(ValueError, match="border 20"):
        seam_error(x, x, border=20)


def test_text_region_mse_counts_only_the_mask() -> None:
    x = torch.zeros(2, 3, 8, 8)
    x_hat = torch.full_like(x, 0.5)
    mask = torch.zeros(2, 1, 8, 8)
    assert text_region_mse(x, x_hat, mask) == 0
    mask[0, 0, :2, :2] = 1
    x_hat[1] = 1.0  # error outside the mask does not count
    assert text_region_mse(x, x_hat, mask) == pytest.approx(0.25)


def test_default_loss_is_compressai_mse() -> None:
    x, x_hat, bpp = torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16), torch.tensor(0.7)
    terms = rate_distortion_loss(LossWeights(), 0.01, bpp, x, x_hat, None, None)
    mse = torch.mean((x - x_hat) ** 2)
    assert terms.loss == pytest.approx(float(0.7 + 0.01 * 255**2 * mse))
    with pytest.raises(ValueError, match="tile layout"):
        rate_distortion_loss(LossWeights(tiling=1.0), 0.01, bpp, x, x_hat, None, None)
