"""Balle et al. (2018) non-parametric factorized density, one per channel.

The cumulative density is an MLP of per-channel monotone layers (filters (3,3,3)), as
CompressAI's EntropyBottleneck. Instead of learning tail quantiles with an auxiliary loss, the
integer support is found from the CDF when the coding tables are built.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from codec.entropy.coder import LatentDecoder, LatentEncoder
from codec.entropy.lower_bound import lower_bound
from codec.entropy.tables import SymbolTable
from codec.errors import CodingNotPreparedError

LIKELIHOOD_BOUND = 1e-9
TAIL_MASS = 1e-9
# Half-width of the integer grid searched for the tails; wider densities escape beyond it.
MAX_HALF_WIDTH = 2048


class FactorizedDensity(nn.Module):
    def __init__(
        self, channels: int, filters: tuple[int, ...] = (3, 3, 3), init_scale: float = 10.0
    ) -> None:
        super().__init__()
        self.channels = channels
        dims = (1, *filters, 1)
        scale = init_scale ** (1.0 / (len(filters) + 1))
        self.matrices = nn.ParameterList()
        self.biases = nn.ParameterList()
        self.factors = nn.ParameterList()
        for i in range(len(filters) + 1):
            init = math.log(math.expm1(1.0 / scale / dims[i + 1]))
            self.matrices.append(nn.Parameter(torch.full((channels, dims[i + 1], dims[i]), init)))
            self.biases.append(nn.Parameter(torch.rand(channels, dims[i + 1], 1) - 0.5))
            if i < len(filters):
                self.factors.append(nn.Parameter(torch.zeros(channels, dims[i + 1], 1)))
        self.tables: tuple[SymbolTable, ...] | None = None

    def _logits_cumulative(self, x: torch.Tensor) -> torch.Tensor:
        """x: (C, 1, N) -> logits of the CDF at x, (C, 1, N); computed in x's dtype."""
        logits = x
        for i, matrix in enumerate(self.matrices):
            logits = torch.matmul(F.softplus(matrix.to(x.dtype)), logits)
            logits = logits + self.biases[i].to(x.dtype)
            if i < len(self.factors):
                logits = logits + torch.tanh(self.factors[i].to(x.dtype)) * torch.tanh(logits)
        return logits

    def _bin_probabilities(self, values: torch.Tensor) -> torch.Tensor:
        """P(v-0.5 < Y < v+0.5) for values (C, 1, N), stable in both tails."""
        lower = self._logits_cumulative(values - 0.5)
        upper = self._logits_cumulative(values + 0.5)
        # Subtract in the tail where the sigmoids are far from 1, as CompressAI does.
        sign = -torch.sign(lower + upper).detach()
        return torch.abs(torch.sigmoid(sign * upper) - torch.sigmoid(sign * lower))

    def likelihood(self, values: torch.Tensor) -> torch.Tensor:
        """values (B, C, H, W) (noisy or rounded) -> likelihoods of the same shape."""
        b, c, h, w = values.shape
        if c != self.channels:
            raise ValueError(f"expected {self.channels} channels, got shape {tuple(values.shape)}")
        flat = values.permute(1, 0, 2, 3).reshape(c, 1, -1)
        lik = self._bin_probabilities(flat).reshape(c, b, h, w).permute(1, 0, 2, 3)
        return lower_bound(lik, LIKELIHOOD_BOUND)

    @torch.no_grad()
    def prepare_for_coding(self) -> None:
        """Build one integer table per channel over the support holding all but TAIL_MASS."""
        grid = torch.arange(-MAX_HALF_WIDTH, MAX_HALF_WIDTH + 1, dtype=torch.float64)
        # edges[k] = grid[k] - 0.5, plus the upper edge of the last bin.
        edges = torch.cat([grid - 0.5, grid[-1:] + 0.5]).expand(self.channels, 1, -1)
        logits = self._logits_cumulative(edges).squeeze(1)
        mass_below = torch.sigmoid(logits).numpy()  # mass below each edge
        mass_above = torch.sigmoid(-logits).numpy()  # mass above each edge
        pmf = self._bin_probabilities(grid.expand(self.channels, 1, -1)).squeeze(1).numpy()
        grid_np = grid.numpy().astype(np.int64)
        tables = []
        for c in range(self.channels):
            # lo: last grid value with at most TAIL_MASS/2 below it; hi: first with at most
            # TAIL_MASS/2 above it. Monotone CDF, so both are found by counting.
            lo_index = max(int((mass_below[c, :-1] <= TAIL_MASS / 2).sum()) - 1, 0)
            hi_index = min(
                grid_np.size - int((mass_above[c, 1:] <= TAIL_MASS / 2).sum()), grid_np.size - 1
            )
            hi_index = max(hi_index, lo_index)
            tables.append(
                SymbolTable.from_pmf(
                    lo=int(grid_np[lo_index]),
                    below=float(mass_below[c, lo_index]),
                    inner=pmf[c, lo_index : hi_index + 1],
                    above=float(mass_above[c, hi_index + 1]),
                )
            )
        self.tables = tuple(tables)

    def _require_tables(self) -> tuple[SymbolTable, ...]:
        if self.tables is None:
            raise CodingNotPreparedError(
                "factorized density has no coding tables: call prepare_for_coding() first"
            )
        return self.tables

    def encode(self, symbols: torch.Tensor, encoder: LatentEncoder) -> None:
        """symbols: integer-valued (1, C, H, W); one group per channel."""
        tables = self._require_tables()
        values = symbols.detach().to(torch.int64).numpy()
        for c, table in enumerate(tables):
            encoder.add(values[0, c], table)

    def decode(self, shape: tuple[int, int, int, int], decoder: LatentDecoder) -> torch.Tensor:
        tables = self._require_tables()
        _, _, h, w = shape
        values = np.stack([decoder.take(h * w, table).reshape(h, w) for table in tables])
        return torch.from_numpy(values).to(torch.float32).unsqueeze(0)
