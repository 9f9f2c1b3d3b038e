"""The latency measurement protocol shared by every benchmark backend.

One tile is timed; a 12 MP photo is decoded tile by tile, so its estimate is the median tile time
times the tile count (PICO's runtime target is stated for 12 MP).
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# A 12 MP photo (4032 x 3024, the iPhone main camera), width first.
TWELVE_MP = (4032, 3024)

# Clocks a run can be timed with. "wall" is the latency a user sees. "cpu" is the calling
# thread's CPU time: on a shared machine, other processes stretch wall time several-fold (5x
# measured here with 6 busy processes on 2 cores) while a single-threaded run's CPU time stays
# within ~2%, so it is the uncontended latency. It is only a latency for single-threaded runs.
CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.thread_time}


def tiles_for(width: int, height: int, tile: int) -> int:
    """Tiles of `tile` x `tile` pixels needed to cover a width x height image (edges padded)."""
    if width <= 0 or height <= 0:
        raise ValueError(f"image size must be positive, got {width}x{height}")
    if tile <= 0:
        raise ValueError(f"tile must be a positive number of pixels, got {tile}")
    return math.ceil(width / tile) * math.ceil(height / tile)


def estimate_12mp_ms(tile_ms: float, tile: int) -> float:
    """Time to run one part over a whole 12 MP photo, from the time of one tile."""
    return tile_ms * tiles_for(*TWELVE_MP, tile)


@dataclass(frozen=True)
class LatencyResult:
    """One benchmark of one model part on one device and backend; times in milliseconds."""

    device: str
    backend: str
    part: str
    precision: str
    tile: int
    warmup: int
    runs: int
    p50_ms: float
    p90_ms: float
    estimate_12mp_ms: float
    # Session or compilation set-up plus the first run: what a user waits for the first photo.
    cold_ms: float
    timings_ms: tuple[float, ...]
    clock: str = "wall"  # what timings_ms measure (see CLOCKS); cold_ms is always wall time


def measure(
    run_once: Callable[[], object], *, warmup: int, runs: int, clock: str = "wall"
) -> tuple[float, float, tuple[float, ...]]:
    """Call `run_once` `warmup` times untimed, then `runs` times timed on `clock` (see CLOCKS).

    Returns (p50_ms, p90_ms, every timed run in ms, in call order).
    """
    if clock not in CLOCKS:
        raise ValueError(f"clock must be one of {sorted(CLOCKS)}, got clock={clock!r}")
    now = CLOCKS[clock]
    if warmup < 0:
        raise ValueError(f"warmup must be >= 0, got {warmup}")
    if runs < 1:
        raise ValueError(f"runs must be >= 1, got {runs}")
    for _ in range(warmup):
        run_once()
    timings: list[float] = []
    # A collection pause inside a timed run is noise, not model cost (timeit disables it too).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(runs):
            start = now()
            run_once()
            timings.append((now() - start) * 1000.0)
    finally:
        if gc_was_enabled:
            gc.enable()
    p50, p90 = np.percentile(timings, [50, 90])
    return float(p50), float(p90), tuple(timings)
