"""Bjøntegaard delta rate (BD-rate) of one rate–quality curve against another.

Computed by the `bjontegaard` package (FAU-LMS), whose PCHIP variant matches the JCT-VC Excel
sheet; Akima interpolation is its recommended default and ours. The quality values must be on a
rising axis (PSNR dB, MS-SSIM dB, SSIMULACRA2, ... as `codec.metrics.QualityMetric.to_axis` gives),
the rates in bpp. The result is the mean bitrate difference, in percent, of the test codec over
the quality range both curves cover: -20 means 20% fewer bits than the anchor at equal quality.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

METHODS = ("akima", "pchip", "cubic")
MIN_POINTS = 4  # VCEG-M33's convention; fewer points make the interpolation arbitrary


@dataclass(frozen=True)
class BdRate:
    percent: float  # mean bitrate change of the test against the anchor at equal quality
    overlap: float  # fraction of the joint quality range that both curves cover, in (0, 1]
    quality_range: tuple[float, float]  # the quality interval averaged over


def _sorted_curve(name: str, points: Sequence[tuple[float, float]], min_points: int) -> np.ndarray:
    """(bpp, quality) pairs as an array sorted by quality; ValueError naming the bad value."""
    if len(points) < min_points:
        raise ValueError(f"{name} curve needs at least {min_points} points, got {len(points)}")
    curve = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    for bpp, quality in curve:
        if not (math.isfinite(bpp) and bpp > 0):
            raise ValueError(f"{name} curve has a bpp that is not finite and > 0: {bpp}")
        if not math.isfinite(quality):
            raise ValueError(f"{name} curve has a quality that is not finite: {quality}")
    curve = curve[np.argsort(curve[:, 1], kind="stable")]
    repeated = curve[1:, 1][np.diff(curve[:, 1]) == 0]
    if repeated.size:
        raise ValueError(f"{name} curve repeats the quality {repeated[0]}: it must be one-to-one")
    return curve


def bd_rate(
    anchor: Sequence[tuple[float, float]],
    test: Sequence[tuple[float, float]],
    method: str = "akima",
    min_points: int = MIN_POINTS,
) -> BdRate:
    """BD-rate of `test` against `anchor`, each a sequence of (bpp, quality on a rising axis)."""
    if method not in METHODS:
        raise ValueError(f"unknown BD-rate method {method!r}; expected one of {METHODS}")
    anchor_curve = _sorted_curve("anchor", anchor, min_points)
    test_curve = _sorted_curve("test", test, min_points)
    low = max(anchor_curve[0, 1], test_curve[0, 1])
    high = min(anchor_curve[-1, 1], test_curve[-1, 1])
    if high <= low:
        raise ValueError(
            f"the curves do not overlap in quality: anchor "
            f"{anchor_curve[0, 1]:.3f}..{anchor_curve[-1, 1]:.3f}, test "
            f"{test_curve[0, 1]:.3f}..{test_curve[-1, 1]:.3f}"
        )
    joint = max(anchor_curve[-1, 1], test_curve[-1, 1]) - min(anchor_curve[0, 1], test_curve[0, 1])
    import bjontegaard  # imports matplotlib.pyplot: only when a BD-rate is asked for

    with warnings.catch_warnings():
        # its warning on a small overlap is reported through BdRate.overlap instead
        warnings.simplefilter("ignore", UserWarning)
        percent = bjontegaard.bd_rate(
            anchor_curve[:, 0],
            anchor_curve[:, 1],
            test_curve[:, 0],
            test_curve[:, 1],
            method=method,
            require_matching_points=False,
            min_overlap=0.0,
        )
    return BdRate(float(percent), float((high - low) / joint), (float(low), float(high)))
