"""Tile geometry: split an image into tiles with a context margin, and crop them back.

The image is cut into a grid of *cores* of (tile - 2 * margin) pixels a side, starting at the
top-left corner; the last row and column of cores are narrower when the image size is not a
multiple. Each tile codes its core plus `margin` pixels of the neighbouring image content on
every side (clipped at the image border, where there is no neighbour); the decoder crops the
margin away, so every output pixel comes from exactly one tile and the margin only gives the
transforms context across the cut. With PICO's defaults (tile 512, margin 4) an interior tile
codes 512 x 512 pixels and keeps its central 504 x 504.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

DEFAULT_TILE = 512
DEFAULT_MARGIN = 4


@dataclass(frozen=True)
class Box:
    """A half-open pixel rectangle [top, bottom) x [left, right)."""

    top: int
    left: int
    bottom: int
    right: int

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def slices(self) -> tuple[slice, slice]:
        """(rows, columns) for indexing an (H, W, ...) array."""
        return slice(self.top, self.bottom), slice(self.left, self.right)


@dataclass(frozen=True)
class TilePlacement:
    """Where one tile lies: `coded` is what the codec sees, `core` what the output keeps."""

    index: int
    core: Box
    coded: Box

    @property
    def core_in_coded(self) -> Box:
        """The core in the coordinates of the decoded tile (to crop the margin away)."""
        return Box(
            self.core.top - self.coded.top,
            self.core.left - self.coded.left,
            self.core.bottom - self.coded.top,
            self.core.right - self.coded.left,
        )


def check_tile_parameters(tile: int, margin: int) -> None:
    """Raise ValueError naming the bad value unless a tile keeps a core of at least 1 pixel."""
    for name, value in (("tile", tile), ("margin", margin)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be an int, got {name}={value!r}")
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got margin={margin}")
    if tile - 2 * margin < 1:
        raise ValueError(
            f"tile={tile} leaves no core inside a margin of {margin} pixels on each side; "
            f"tile must be > 2 * margin"
        )


@dataclass(frozen=True)
class TileGrid:
    """The tiles of an image of height x width, in row-major order."""

    height: int
    width: int
    tile: int = DEFAULT_TILE
    margin: int = DEFAULT_MARGIN

    def __post_init__(self) -> None:
        check_tile_parameters(self.tile, self.margin)
        if self.height < 1 or self.width < 1:
            raise ValueError(f"image size must be positive, got {self.height}x{self.width}")

    @property
    def core(self) -> int:
        return self.tile - 2 * self.margin

    @property
    def rows(self) -> int:
        return -(-self.height // self.core)

    @property
    def columns(self) -> int:
        return -(-self.width // self.core)

    @property
    def count(self) -> int:
        return self.rows * self.columns

    def placement(self, index: int) -> TilePlacement:
        if not 0 <= index < self.count:
            raise IndexError(f"tile index {index} out of range for {self.count} tiles")
        row, column = divmod(index, self.columns)
        top, left = row * self.core, column * self.core
        core = Box(top, left, min(top + self.core, self.height), min(left + self.core, self.width))
        coded = Box(
            max(core.top - self.margin, 0),
            max(core.left - self.margin, 0),
            min(core.bottom + self.margin, self.height),
            min(core.right + self.margin, self.width),
        )
        return TilePlacement(index, core, coded)

    def __iter__(self) -> Iterator[TilePlacement]:
        return (self.placement(index) for index in range(self.count))


def crop_margin(decoded: np.ndarray, placement: TilePlacement) -> np.ndarray:
    """The core of a decoded tile (coded.height, coded.width, ...) -> (core.height, core.width)."""
    expected = (placement.coded.height, placement.coded.width)
    if decoded.shape[:2] != expected:
        raise ValueError(
            f"tile {placement.index}: decoded shape {decoded.shape[:2]} is not the coded "
            f"region's {expected}"
        )
    return decoded[placement.core_in_coded.slices]


def seam_band_mask(grid: TileGrid, band: int) -> np.ndarray:
    """Boolean (H, W): pixels within `band` pixels of a cut between two tiles' cores.

    Only cuts inside the image count (the image border is no seam). Measuring the error on this
    band against the rest of the image shows whether tiling leaves visible seams.
    """
    if band < 1:
        raise ValueError(f"band must be >= 1 pixel, got band={band}")
    mask = np.zeros((grid.height, grid.width), dtype=bool)
    for cut in range(grid.core, grid.height, grid.core):
        mask[max(cut - band, 0) : cut + band, :] = True
    for cut in range(grid.core, grid.width, grid.core):
        mask[:, max(cut - band, 0) : cut + band] = True
    return mask


def seam_errors(
    original: np.ndarray, decoded: np.ndarray, grid: TileGrid, band: int = 2
) -> tuple[float, float]:
    """(MSE on the seam band, MSE on the rest) of a decoded (H, W, C) image, in pixel units².

    Seams show as a band error above the rest; compare against the same split of an image
    coded whole to separate seams from where the image content happens to be hard.
    """
    if original.shape != decoded.shape or original.shape[:2] != (grid.height, grid.width):
        raise ValueError(
            f"original {original.shape} and decoded {decoded.shape} must both be the grid's "
            f"{grid.height}x{grid.width}"
        )
    squared = (original.astype(np.float64) - decoded.astype(np.float64)) ** 2
    per_pixel = squared.reshape(grid.height, grid.width, -1).mean(axis=2)
    mask = seam_band_mask(grid, band)
    if mask.all() or not mask.any():
        raise ValueError(
            f"a {grid.height}x{grid.width} image in {grid.count} tiles has no "
            f"seam band and interior to compare at band={band}"
        )
    return float(per_pixel[mask].mean()), float(per_pixel[~mask].mean())
