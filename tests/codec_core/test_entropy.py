from __future__ import annotations

import numpy as np
import pytest
import torch

from codec.entropy import (
    FactorizedDensity,
    GaussianConditional,
    LatentDecoder,
    LatentEncoder,
    SymbolTable,
    lower_bound,
    quantize_pmf,
)
from codec.entropy.tables import TOTAL
from codec.entropy.varint import decode_varints, encode_varints
from codec.errors import BitstreamError


def test_quantize_pmf_is_a_valid_deterministic_integer_table() -> None:
    pmf = np.array([1e-12, 0.3, 0.6, 0.1 - 1e-12, 0.0])
    counts = quantize_pmf(pmf)
    assert counts.sum() == TOTAL and counts.min() >= 1
    assert np.array_equal(counts, quantize_pmf(pmf.copy()))
    assert np.argmax(counts) == 2
    with pytest.raises(ValueError, match="non-negative"):
        quantize_pmf(np.array([0.5, -0.1]))


def test_varints_round_trip_and_reject_cut_off_streams() -> None:
    values = np.array([0, 1, 127, 128, 300, 2**31, 2**35 - 1])
    encoded = encode_varints(values)
    assert len(encode_varints(np.array([5]))) == 1
    assert np.array_equal(decode_varints(encoded), values)
    with pytest.raises(BitstreamError, match="truncated"):
        decode_varints(encoded[:-1])
    with pytest.raises(ValueError, match="-1"):
        encode_varints(np.array([-1]))


def test_table_escapes_values_beyond_both_ends() -> None:
    table = SymbolTable.from_pmf(lo=-2, below=1e-9, inner=np.array([1, 2, 4, 2, 1.0]), above=1e-9)
    assert (table.lo, table.hi) == (-2, 2)
    values = np.array([-1000, -3, -2, 0, 2, 3, 77])
    bins, excess = table.to_bins(values)
    assert bins.tolist() == [0, 0, 1, 3, 5, 6, 6]
    assert excess.tolist() == [997, 0, 0, 74]
    assert table.from_bins(bins, excess).tolist() == values.tolist()


def test_latent_coder_round_trips_groups_in_order() -> None:
    rng = np.random.default_rng(0)
    narrow = SymbolTable.from_pmf(lo=0, below=1e-6, inner=np.array([0.7, 0.3]), above=1e-6)
    wide = SymbolTable.from_pmf(lo=-20, below=0.01, inner=np.ones(41), above=0.01)
    groups = [
        (rng.integers(0, 2, 500), narrow),
        (rng.integers(-60, 60, 300), wide),
        (np.array([-(2**30), 2**30, 5]), narrow),
    ]
    encoder = LatentEncoder()
    for values, table in groups:
        encoder.add(values, table)
    ans, escapes = encoder.finish()
    assert escapes, "out-of-support values must use the escape stream"
    decoder = LatentDecoder(ans, escapes)
    for values, table in groups:
        assert np.array_equal(decoder.take(values.size, table), values)
    decoder.finish()

    # Decoding fewer symbols than were coded is detected, never silently accepted.
    short = LatentDecoder(ans, escapes)
    short.take(groups[0][0].size, narrow)
    with pytest.raises(BitstreamError, match="left"):
        short.finish()
    with pytest.raises(ValueError, match="exceeds"):
        LatentEncoder().add(np.array([2**31]), narrow)


def test_factorized_density_is_normalised_and_tables_cover_it() -> None:
    torch.manual_seed(0)
    density = FactorizedDensity(3)
    grid = torch.arange(-200, 201, dtype=torch.float32)
    with torch.no_grad():
        lik = density.likelihood(grid.view(1, 1, 1, -1).expand(1, 3, 1, -1).contiguous())
    assert torch.allclose(lik.sum(dim=-1), torch.ones(1, 3, 1), atol=1e-4)
    density.prepare_for_coding()
    assert density.tables is not None
    for c, table in enumerate(density.tables):
        # A logistic-like density of scale ~10 at init: ~1e-9 tails lie near +-200, well inside
        # the +-2048 search grid, and the mass outside the support is negligible.
        assert -2048 < table.lo < -50 and 50 < table.hi < 2048
        outside = (grid < table.lo) | (grid > table.hi)
        assert float(lik[0, c, 0][outside].sum()) < 1e-6
        assert table.counts[0] == 1 and table.counts[-1] == 1  # ~1e-9 tails cost the minimum


def test_gaussian_likelihood_index_and_tables() -> None:
    gaussian = GaussianConditional()
    values = torch.arange(-3000, 3001, dtype=torch.float64)
    for scale in (0.05, 0.5, 7.0, 300.0):
        s = torch.full_like(values, scale)
        total = float(gaussian.likelihood(values, s).sum())
        # Each of the 6001 bins is floored at 1e-9, hence the 1e-5 tolerance.
        assert abs(total - 1.0) < 1e-5, scale
    table = gaussian.scale_table
    scales = torch.tensor([0.0, float(table[0]), float(table[5]) * 1.01, 1e4])
    assert gaussian.scale_indexes(scales).tolist() == [0, 0, 6, table.size - 1]
    gaussian.prepare_for_coding()
    assert gaussian.tables is not None
    assert gaussian.tables[-1].hi == -gaussian.tables[-1].lo == int(np.ceil(256 * 6.1094))


def test_lower_bound_passes_only_gradients_that_lift_the_value() -> None:
    x = torch.tensor([0.05, 0.05, 0.5], requires_grad=True)
    y = lower_bound(x, 0.11)
    assert y.tolist() == pytest.approx([0.11, 0.11, 0.5])
    (y * torch.tensor([-1.0, 1.0, 1.0])).sum().backward()
    # d/dx of -y at the bound wants x up (descent raises it): kept; +y wants it down: blocked.
    assert x.grad is not None and x.grad.tolist() == [-1.0, 0.0, 1.0]
