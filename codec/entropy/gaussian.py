"""Zero-mean Gaussian conditional over a table of scales (the hyperprior's y model).

There are 64 log-spaced scale levels (as CompressAI), each with its own integer table over
+-ceil(6.1 sigma) and escape bins beyond. The scale decoder outputs a level index per element
directly (encode_indexed / decode_indexed), so no float comparison ever picks a table; a float
scale can still be rounded *up* to its level (scale_indexes). Mean-scale models code the
residual around their mean, which is zero-mean by construction.
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


LOG_SCALE_STEP = (math.log(SCALE_MAX) - math.log(SCALE_BOUND)) / (SCALE_LEVELS - 1)


def default_scale_table() -> np.ndarray:
    """Log-spaced scale levels, float32 so the level of a float32 scale is exact on both sides."""
    levels = np.exp(np.linspace(math.log(SCALE_BOUND), math.log(SCALE_MAX), SCALE_LEVELS))
    return levels.astype(np.float32)


def index_to_scale(index: torch.Tensor) -> torch.Tensor:
    """Scale of (possibly fractional) level indexes; level k is default_scale_table()[k]."""
    return torch.exp(math.log(SCALE_BOUND) + index * LOG_SCALE_STEP)


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
        self.encode_indexed(symbols, torch.from_numpy(self.scale_indexes(scales)), encoder)

    def decode(self, scales: torch.Tensor, decoder: LatentDecoder) -> torch.Tensor:
        """Symbols of scales' shape, in the order encode() wrote them."""
        return self.decode_indexed(torch.from_numpy(self.scale_indexes(scales)), decoder)

    def encode_indexed(
        self, symbols: torch.Tensor, indexes: torch.Tensor, encoder: LatentEncoder
    ) -> None:
        """symbols: integer-valued tensor; indexes: the table level of each, same shape."""
        tables = self._require_tables()
        if symbols.shape != indexes.shape:
            raise ValueError(
                f"symbols {tuple(symbols.shape)} and indexes {tuple(indexes.shape)} differ"
            )
        values = symbols.detach().to(torch.int64).numpy().ravel()
        idx = self._check_indexes(indexes)
        for level in np.unique(idx):
            encoder.add(values[idx == level], tables[level])

    def decode_indexed(self, indexes: torch.Tensor, decoder: LatentDecoder) -> torch.Tensor:
        """Symbols of indexes' shape (float32), in the order encode_indexed() wrote them."""
        tables = self._require_tables()
        idx = self._check_indexes(indexes)
        values = np.zeros(idx.size, dtype=np.int64)
        for level in np.unique(idx):
            mask = idx == level
            values[mask] = decoder.take(int(mask.sum()), tables[level])
        return torch.from_numpy(values.reshape(indexes.shape)).to(torch.float32)

    def _check_indexes(self, indexes: torch.Tensor) -> np.ndarray:
        idx = indexes.detach().to(torch.int64).numpy().ravel()
        if idx.size and (idx.min() < 0 or idx.max() >= self.scale_table.size):
            raise ValueError(
                f"scale indexes must be in 0..{self.scale_table.size - 1}, got "
                f"{int(idx.min())}..{int(idx.max())}"
            )
        return idx
