"""BD-rate on curves whose answer is known in closed form."""

from __future__ import annotations

import math

import pytest

from codec.bd_rate import bd_rate

QUALITIES = [30.0, 32.0, 34.0, 36.0]
ANCHOR = [(10 ** (-2 + 0.1 * q), q) for q in QUALITIES]  # log10(bpp) linear in PSNR


@pytest.mark.parametrize("method", ["akima", "pchip", "cubic"])
def test_constant_bit_saving_is_its_bd_rate(method: str) -> None:
    test = [(0.9 * bpp, q) for bpp, q in ANCHOR]
    result = bd_rate(ANCHOR, test, method=method)
    assert result.percent == pytest.approx(-10.0, abs=1e-9)
    assert result.overlap == 1.0 and result.quality_range == (30.0, 36.0)


@pytest.mark.parametrize("method", ["akima", "pchip", "cubic"])
def test_tilted_line_averages_over_the_overlap(method: str) -> None:
    # log10 rate differs by -0.05 + 0.01 (q - 33): the tilt averages to 0 over 30..36 dB
    test = [(10 ** (-2.05 + 0.1 * q + 0.01 * (q - 33)), q) for q in QUALITIES]
    assert bd_rate(ANCHOR, test, method=method).percent == pytest.approx(
        100 * (10**-0.05 - 1), abs=1e-9
    )


def test_partial_overlap_uses_the_common_range_in_any_order() -> None:
    qualities = [33.0, 35.0, 37.0, 39.0]
    test = [(2.0 * 10 ** (-2 + 0.1 * q), q) for q in reversed(qualities)]
    result = bd_rate(ANCHOR, test)
    assert result.percent == pytest.approx(100.0, abs=1e-9)
    assert result.quality_range == (33.0, 36.0)
    assert result.overlap == pytest.approx(3 / 9)


def test_bad_curves_are_named() -> None:
    with pytest.raises(ValueError, match="at least 4 points, got 3"):
        bd_rate(ANCHOR[:3], ANCHOR)
    with pytest.raises(ValueError, match="do not overlap"):
        bd_rate(ANCHOR, [(b, q + 20) for b, q in ANCHOR])
    with pytest.raises(ValueError, match="repeats the quality 32.0"):
        bd_rate(ANCHOR, [*ANCHOR[:3], (0.5, 32.0)])
    with pytest.raises(ValueError, match="bpp .* -1.0"):
        bd_rate(ANCHOR, [(-1.0, 30.0), *ANCHOR[1:]])
    with pytest.raises(ValueError, match="'linear'"):
        bd_rate(ANCHOR, ANCHOR, method="linear")
    assert math.isfinite(bd_rate(ANCHOR, ANCHOR).percent)
