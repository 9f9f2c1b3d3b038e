"""Integer probability tables with escape bins, and their constriction models.

A table codes integer values lo..hi in bins 1..K; bin 0 means "below lo" and bin K+1 "above hi".
The end bins carry the tail mass of the density; the distance past the support of an escaped
value goes to a side stream, so no value is ever clamped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import constriction
import numpy as np

PRECISION_BITS = 16
TOTAL = 1 << PRECISION_BITS


def quantize_pmf(pmf: np.ndarray) -> np.ndarray:
    """Integer counts summing to 2**PRECISION_BITS, every bin >= 1; deterministic.

    floor(p * (TOTAL - n)) + 1 never overshoots the total; the remainder goes to the most likely
    bin, where it costs least.
    """
    p = np.asarray(pmf, dtype=np.float64)
    n = p.size
    if n == 0 or n > TOTAL // 2:
        raise ValueError(f"pmf must have 1..{TOTAL // 2} bins, got {n}")
    if not np.all(np.isfinite(p)) or p.min() < 0 or p.sum() <= 0:
        raise ValueError(f"pmf must be finite, non-negative and not all zero, got sum={p.sum()!r}")
    p = p / p.sum()
    counts = np.floor(p * (TOTAL - n)).astype(np.int64) + 1
    counts[int(np.argmax(p))] += TOTAL - int(counts.sum())
    return counts


@dataclass(frozen=True, eq=False)
class SymbolTable:
    """counts = [below, lo, lo+1, ..., hi, above] as integers summing to 2**PRECISION_BITS."""

    counts: np.ndarray
    lo: int
    _model: object = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.counts.ndim != 1 or self.counts.size < 3:
            raise ValueError(f"a table needs >= 3 bins (below, values, above), got {self.counts}")
        if int(self.counts.sum()) != TOTAL or int(self.counts.min()) < 1:
            raise ValueError(f"table counts must be >= 1 and sum to {TOTAL}")
        # Integer counts are exact in float64, so constriction's own fixed-point model is a
        # deterministic function of the integer table.
        model = constriction.stream.model.Categorical(self.counts.astype(np.float64), perfect=False)
        object.__setattr__(self, "_model", model)

    @classmethod
    def from_pmf(cls, lo: int, below: float, inner: np.ndarray, above: float) -> SymbolTable:
        pmf = np.concatenate(([below], np.asarray(inner, dtype=np.float64), [above]))
        return cls(quantize_pmf(pmf), int(lo))

    @property
    def hi(self) -> int:
        return self.lo + self.counts.size - 3

    @property
    def model(self) -> object:
        """constriction.stream.model.Categorical over the bins."""
        return self._model

    def to_bins(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(bin index per value as int32, escape excess per escaped value in order)."""
        v = np.asarray(values, dtype=np.int64)
        below = v < self.lo
        above = v > self.hi
        bins = np.clip(v - self.lo + 1, 0, self.counts.size - 1)
        escaped = below | above
        excess = np.where(below, self.lo - 1 - v, v - self.hi - 1)[escaped]
        return bins.astype(np.int32), excess

    def from_bins(self, bins: np.ndarray, excess: np.ndarray) -> np.ndarray:
        """Inverse of to_bins; `excess` must hold one value per escape bin, in order."""
        b = np.asarray(bins, dtype=np.int64)
        v = b + self.lo - 1
        below = b == 0
        above = b == self.counts.size - 1
        escaped = below | above
        v[escaped] = np.where(below[escaped], self.lo - 1 - excess, self.hi + 1 + excess)
        return v
