"""Training losses: rate plus a weighted sum of distortion terms, each a campaign setting.

    loss = bpp + lmbda * (w_mse D_mse + w_ms_ssim D_ms_ssim + w_tiling D_tiling + w_text D_text)

Every term is on the scale of 255**2 * MSE (CompressAI's convention), so the usual lambdas
(0.0018 .. 0.0483) carry over whatever the mix:

- D_mse = 255**2 * MSE on [0, 1] pixels;
- D_ms_ssim = MS_SSIM_SCALE * (1 - MS-SSIM): CompressAI's MS-SSIM lambdas are ~1300 times its MSE
  lambdas for the same quality index (2.40 / 0.0018 .. 60.5 / 0.0483), hence that scale;
- D_tiling (TilingArtifactLoss): the image is coded as independent tiles with a context margin, as
  at inference (codec/tiling.py), and the term is the L1 step of the low-frequency error across
  the tile borders (the error averaged over 2, 4 and 8 px blocks, compared on either side of a
  border), in grey levels (times 255). A seam is exactly such a step: a low-frequency error
  that changes at the border; an error that is the same on both sides costs nothing. With a
  tiling weight > 0 the whole step runs on the tile layout (rate and the other terms too), as
  the codec will be used, at no extra cost;
- D_text (TextFidelityLoss): 255**2 * MSE inside the rendered text regions only
  (codec/text_render.py draws text on a fraction of the training crops and gives the masks).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

# Defined torch-free (specs validate them); re-exported for the code that computes the losses.
from codec.loss_weights import LOSS_NAMES as LOSS_NAMES
from codec.loss_weights import LossWeights as LossWeights
from codec.metrics import ms_ssim_tensor

MS_SSIM_SCALE = 1300.0
SEAM_SCALES = (2, 4, 8)
DEFAULT_TILE_MARGIN = 4  # PICO: 504-pixel cores in 512-pixel tiles
_PIXEL_SCALE = 255.0**2


@dataclass(frozen=True)
class TileLayout:
    """A 2x2 grid of tiles cut from a square crop, each `tile` px with `margin` px of context.

    Tile (i, j) covers crop[i*core : i*core + tile] (core = tile - 2 * margin) and keeps its core,
    crop[margin + i*core : margin + (i+1)*core]; the four cores form the canvas, crop[margin :
    margin + 2*core], whose tile borders cross at its centre. Every margin is real image content.
    """

    tile: int
    margin: int = DEFAULT_TILE_MARGIN

    def __post_init__(self) -> None:
        smallest = max(SEAM_SCALES)
        if self.margin < 0 or self.tile - 2 * self.margin < smallest:
            raise ValueError(
                f"tile {self.tile} with margin {self.margin} leaves a core under {smallest} px"
            )

    @property
    def core(self) -> int:
        return self.tile - 2 * self.margin

    def split(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, S, S) crops -> (4B, C, tile, tile) tiles, ordered tile-major."""
        need = 2 * self.core + 2 * self.margin
        if x.shape[-1] < need or x.shape[-2] < need:
            raise ValueError(f"crops {tuple(x.shape[-2:])} are smaller than the {need} px layout")
        c, t = self.core, self.tile
        tiles = [x[..., i * c : i * c + t, j * c : j * c + t] for i in (0, 1) for j in (0, 1)]
        return torch.cat(tiles)

    def canvas(self, x: torch.Tensor) -> torch.Tensor:
        """The part of (B, C, S, S) crops that the tile cores reconstruct."""
        m, c = self.margin, self.core
        return x[..., m : m + 2 * c, m : m + 2 * c]

    def assemble(self, tiles: torch.Tensor) -> torch.Tensor:
        """(4B, C, tile, tile) decoded tiles -> (B, C, 2*core, 2*core) canvas of their cores."""
        m, c = self.margin, self.core
        cores = tiles[..., m : m + c, m : m + c].chunk(4)
        top = torch.cat([cores[0], cores[1]], dim=-1)
        bottom = torch.cat([cores[2], cores[3]], dim=-1)
        return torch.cat([top, bottom], dim=-2)


def seam_error(x: torch.Tensor, x_hat: torch.Tensor, border: int) -> torch.Tensor:
    """Mean step of the low-pass error across a horizontal and a vertical tile border, on [0, 1].

    x, x_hat: (B, C, H, W); `border` the row and column where the tiles meet (a multiple of the
    largest of SEAM_SCALES). At each scale s the error x_hat - x is averaged over s x s blocks;
    the term is the L1 difference between the blocks just before and just after the border, so
    an error that is the same on both sides costs nothing and a step (a seam) costs its height.
    Averaged over the scales 2, 4 and 8 and over the image's channels and length of border.
    """
    if border % max(SEAM_SCALES) or not 0 < border < min(x.shape[-2:]):
        raise ValueError(f"tile border {border} must be inside the image and a multiple of 8")
    steps = []
    for scale in SEAM_SCALES:
        error = F.avg_pool2d(x_hat - x, scale)
        cell = border // scale
        across_rows = error[..., cell, :] - error[..., cell - 1, :]
        across_columns = error[..., :, cell] - error[..., :, cell - 1]
        steps.append(0.5 * (across_rows.abs().mean() + across_columns.abs().mean()))
    return torch.stack(steps).mean()


def text_region_mse(x: torch.Tensor, x_hat: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """MSE inside a (B, 1, H, W) mask of text regions; 0 when the mask is empty."""
    area = mask.sum() * x.shape[1]
    if area == 0:
        return x.new_zeros(())
    return (mask * (x_hat - x) ** 2).sum() / area


@dataclass
class LossTerms:
    loss: torch.Tensor  # what is minimised
    bpp: torch.Tensor  # likelihood estimate, bits per coded pixel
    mse: torch.Tensor  # plain MSE on [0, 1] pixels, for progress reports


def rate_distortion_loss(
    weights: LossWeights,
    lmbda: float,
    bpp: torch.Tensor,
    x: torch.Tensor,
    x_hat: torch.Tensor,
    text_mask: torch.Tensor | None,
    layout: TileLayout | None,
) -> LossTerms:
    """The weighted loss of a reconstruction; `layout` is needed for a tiling weight > 0."""
    mse = torch.mean((x_hat - x) ** 2)
    distortion = weights.mse * _PIXEL_SCALE * mse
    if weights.ms_ssim:
        distortion = distortion + weights.ms_ssim * MS_SSIM_SCALE * (
            1.0 - ms_ssim_tensor(x_hat, x, data_range=1.0)
        )
    if weights.tiling:
        if layout is None:
            raise ValueError("a tiling loss weight needs the tile layout the step ran on")
        distortion = distortion + weights.tiling * 255.0 * seam_error(x, x_hat, layout.core)
    if weights.text and text_mask is not None:
        distortion = distortion + weights.text * _PIXEL_SCALE * text_region_mse(x, x_hat, text_mask)
    return LossTerms(bpp + lmbda * distortion, bpp, mse)
