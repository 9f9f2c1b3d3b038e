"""Zero-mean Gaussian conditional with scales from the hyper-decoder (scale hyperprior).

For coding, each scale is rounded *up* to a table of 64 log-spaced levels (as CompressAI) and
every level has its own integer table over +-ceil(6.1 sigma), with escape bins beyond.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import torch
from torch import nn

from codec.entropy.coder import LatentDecoder, LatentEncoder
from codec.entropy.lower_bound import lower_bound
from codec.entropy.tables import SymbolTable
from codec.errors import CodingNotPreparedError

SCALE_BOUND = 0.11
LIKELIHOOD_BOUND = 1e-9
TAIL_MASS = 1e-9
SCALE_LEVELS = 64
SCALE_MAX = 256.0


def default_scale_table() -> np.ndarray:
    """Log-spaced scale levels, float32 so the level of a float32 scale is exact on both sides."""
    levels = np.exp(np.linspace(math.log(SCALE_BOUND), math.log(SCALE_MAX), SCALE_LEVELS))
    return levels.astype(np.float32)


def _standard_normal_cdf(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * torch.erfc(-x * (2**-0.5))


def gaussian_bin_probabilities(values: torch.Tensor, scales: torch.Tensor) -> torch.Tensor:
    """P(v-0.5 < Y < v+0.5) for Y ~ N(0, s); folded onto the lower tail for stability."""
    v = torch.abs(values)
    upper = _standard_normal_cdf((0.5 - v) / scales)
    lower = _standard_normal_cdf((-0.5 - v) / scales)
    return upper - lower


class GaussianConditional(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.scale_table = default_scale_table()
        self.tables: tuple[SymbolTable, ...] | None = None

    @staticmethod
    def bound_scales(scales: torch.Tensor) -> torch.Tensor:
        return lower_bound(scales, SCALE_BOUND)

    def likelihood(self, values: torch.Tensor, scales: torch.Tensor) -> torch.Tensor:
        """values, scales: same shape; scales are bounded below by SCALE_BOUND here."""
        lik = gaussian_bin_probabilities(values, self.bound_scales(scales))
        return lower_bound(lik, LIKELIHOOD_BOUND)

    def scale_indexes(self, scales: torch.Tensor) -> np.ndarray:
        """Index of the smallest table level >= scale (the last level for larger scales)."""
        s = scales.detach().to(torch.float32).numpy()
        idx = np.searchsorted(self.scale_table, s, side="left")
        return np.minimum(idx, self.scale_table.size - 1)

    @torch.no_grad()
    def prepare_for_coding(self) -> None:
        """One integer table per scale level; depends only on the fixed scale table."""
        z_tail = -NormalDist().inv_cdf(TAIL_MASS / 2)
        tables = []
        for level in self.scale_table.astype(np.float64):
            half = math.ceil(level * z_tail)
            grid = torch.arange(-half, half + 1, dtype=torch.float64)
            s = torch.tensor(level, dtype=torch.float64)
            inner = gaussian_bin_probabilities(grid, s).numpy()
            tail = float(_standard_normal_cdf(torch.tensor(-half - 0.5, dtype=torch.float64) / s))
            tables.append(SymbolTable.from_pmf(lo=-half, below=tail, inner=inner, above=tail))
        self.tables = tuple(tables)

    def _require_tables(self) -> tuple[SymbolTable, ...]:
        if self.tables is None:
            raise CodingNotPreparedError(
                "Gaussian conditional has no coding tables: call prepare_for_coding() first"
            )
        return self.tables

    def encode(self, symbols: torch.Tensor, scales: torch.Tensor, encoder: LatentEncoder) -> None:
        """symbols: integer-valued tensor; scales: same shape (bounded or not)."""
        tables = self._require_tables()
        values = symbols.detach().to(torch.int64).numpy().ravel()
        idx = self.scale_indexes(scales).ravel()
        for level in np.unique(idx):
            encoder.add(values[idx == level], tables[level])

    def decode(self, scales: torch.Tensor, decoder: LatentDecoder) -> torch.Tensor:
        """Symbols of scales' shape, in the order encode() wrote them."""
        tables = self._require_tables()
        idx = self.scale_indexes(scales).ravel()
        values = np.zeros(idx.size, dtype=np.int64)
        for level in np.unique(idx):
            mask = idx == level
            values[mask] = decoder.take(int(mask.sum()), tables[level])
        return torch.from_numpy(values.reshape(scales.shape)).to(torch.float32)
