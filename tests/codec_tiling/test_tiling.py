"""Tile geometry: cores partition the image, margins are clipped to it, seams are where cuts are."""

from __future__ import annotations

import numpy as np
import pytest

from codec.tiling import (
    Box,
    TileGrid,
    check_tile_parameters,
    crop_margin,
    seam_band_mask,
    seam_errors,
)

SIZES = [(1, 1), (7, 513), (504, 504), (505, 1008), (600, 1100), (3024, 4032)]


@pytest.mark.parametrize(("height", "width"), SIZES)
def test_cores_cover_every_pixel_exactly_once(height: int, width: int) -> None:
    grid = TileGrid(height, width)
    cover = np.zeros((height, width), dtype=np.int32)
    for placement in grid:
        cover[placement.core.slices] += 1
    assert (cover == 1).all()
    assert grid.count == len(list(grid)) == grid.rows * grid.columns


def test_pico_defaults_give_504_cores_coded_at_512() -> None:
    grid = TileGrid(3024, 4032)  # 12 MP
    assert (grid.core, grid.rows, grid.columns) == (504, 6, 8)
    interior = grid.placement(grid.columns + 1)
    assert (interior.coded.height, interior.coded.width) == (512, 512)
    assert (interior.core.height, interior.core.width) == (504, 504)


@pytest.mark.parametrize(("height", "width"), SIZES)
def test_coded_region_is_core_plus_margin_clipped_to_the_image(height: int, width: int) -> None:
    grid = TileGrid(height, width, tile=64, margin=5)
    for p in grid:
        assert p.coded.top == max(p.core.top - 5, 0)
        assert p.coded.left == max(p.core.left - 5, 0)
        assert p.coded.bottom == min(p.core.bottom + 5, height)
        assert p.coded.right == min(p.core.right + 5, width)


def test_crop_margin_returns_the_core_of_a_decoded_tile() -> None:
    height, width = 70, 90
    image = np.arange(height * width).reshape(height, width)
    for p in TileGrid(height, width, tile=32, margin=4):
        decoded = image[p.coded.slices]
        assert np.array_equal(crop_margin(decoded, p), image[p.core.slices])


def test_crop_margin_rejects_a_tile_of_the_wrong_size() -> None:
    placement = TileGrid(100, 100, tile=32, margin=4).placement(0)
    with pytest.raises(ValueError, match=r"decoded shape \(27, 28\)"):
        crop_margin(np.zeros((27, 28, 3)), placement)


@pytest.mark.parametrize(
    ("tile", "margin", "message"),
    [
        (8, 4, "tile=8 leaves no core"),
        (9, -1, "margin must be >= 0, got margin=-1"),
        (512.0, 4, "tile must be an int, got tile=512.0"),
        (True, 0, "tile must be an int"),
    ],
)
def test_bad_tile_parameters_are_named(tile: int, margin: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_tile_parameters(tile, margin)


def test_bad_sizes_and_indexes() -> None:
    with pytest.raises(ValueError, match="0x5"):
        TileGrid(0, 5)
    with pytest.raises(IndexError, match="tile index 4 out of range for 4 tiles"):
        TileGrid(100, 100, tile=58, margin=4).placement(4)


def test_seam_band_lies_along_interior_cuts_only() -> None:
    grid = TileGrid(20, 30, tile=14, margin=2)  # cores of 10: cuts at rows 10 and cols 10, 20
    mask = seam_band_mask(grid, band=1)
    rows, columns = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
    assert set(rows) == set(range(20))  # the column cuts cross every row
    assert mask[9, 0] and mask[10, 0] and not mask[8, 0] and not mask[11, 0]
    assert mask[0, 19] and mask[0, 20] and not mask[0, 21]
    assert not mask[0, 0] and not mask[19, 29]  # the image border is no seam
    assert set(columns) == set(range(30))
    with pytest.raises(ValueError, match="band=0"):
        seam_band_mask(grid, 0)


def test_box_slices() -> None:
    box = Box(1, 2, 4, 7)
    assert (box.height, box.width) == (3, 5)
    assert np.zeros((10, 10))[box.slices].shape == (3, 5)


def test_seam_errors_split_the_error_between_band_and_rest() -> None:
    grid = TileGrid(20, 30, tile=14, margin=2)
    original = np.zeros((20, 30, 3), dtype=np.uint8)
    decoded = original.copy()
    decoded[seam_band_mask(grid, 1)] = 3
    decoded[0, 0] = 6  # one interior pixel
    band, rest = seam_errors(original, decoded, grid, band=1)
    assert band == 9.0
    assert rest == pytest.approx(36.0 / (~seam_band_mask(grid, 1)).sum())
    with pytest.raises(ValueError, match=r"original \(20, 30, 3\) and decoded \(20, 29, 3\)"):
        seam_errors(original, decoded[:, :29], grid)
    with pytest.raises(ValueError, match="no seam band"):
        seam_errors(original[:5, :5], decoded[:5, :5], TileGrid(5, 5, 14, 2))
