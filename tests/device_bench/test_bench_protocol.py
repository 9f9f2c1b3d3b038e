import time

import pytest

from device_bench.protocol import TWELVE_MP, estimate_12mp_ms, measure, tiles_for


def test_twelve_megapixels_take_48_tiles_of_512() -> None:
    assert tiles_for(*TWELVE_MP, 512) == 48  # 8 columns x 6 rows (3024 / 512 = 5.9)


@pytest.mark.parametrize(
    ("width", "height", "tile", "expected"),
    [
        (1024, 512, 512, 2),
        (2048, 2048, 512, 16),
        (512, 512, 512, 1),
        (513, 512, 512, 2),
        (1, 1, 512, 1),
        (1, 1, 1, 1),
    ],
)
def test_tiles_cover_the_image(width: int, height: int, tile: int, expected: int) -> None:
    assert tiles_for(width, height, tile) == expected


@pytest.mark.parametrize(("width", "height", "tile"), [(0, 10, 512), (10, -1, 512), (10, 10, 0)])
def test_tiles_for_rejects_non_positive_sizes(width: int, height: int, tile: int) -> None:
    with pytest.raises(ValueError, match=r"got (0|10x-1|0x10)"):
        tiles_for(width, height, tile)


def test_12mp_estimate_scales_the_tile_time_by_the_tile_count() -> None:
    assert estimate_12mp_ms(2.5, 512) == 2.5 * 48
    assert estimate_12mp_ms(2.5, 256) == 2.5 * 16 * 12


def test_measure_honours_counts_and_excludes_warmups() -> None:
    calls: list[int] = []
    warmup_s = 0.15

    def run_once() -> None:
        calls.append(len(calls))
        if len(calls) <= 2:  # only the warm-ups are slow
            time.sleep(warmup_s)

    p50, p90, timings = measure(run_once, warmup=2, runs=5)
    assert len(calls) == 7
    assert len(timings) == 5
    assert max(timings) < warmup_s * 1000 / 2
    assert 0 <= p50 <= p90 <= max(timings)


def test_measure_times_each_run_and_takes_percentiles() -> None:
    sleeps_ms = iter([2, 4, 6, 8, 10, 12, 14, 16, 18, 20])

    def run_once() -> None:
        time.sleep(next(sleeps_ms) / 1000)

    p50, p90, timings = measure(run_once, warmup=0, runs=10)
    # sleep never returns early, so every timing is at least its sleep, in call order
    assert all(t >= s for t, s in zip(timings, [2, 4, 6, 8, 10, 12, 14, 16, 18, 20], strict=False))
    assert p50 >= 11 and p90 >= 18.2
    assert p50 <= p90


def test_measure_with_one_run_reports_it_as_both_percentiles() -> None:
    p50, p90, timings = measure(lambda: None, warmup=0, runs=1)
    assert p50 == p90 == timings[0]


@pytest.mark.parametrize(("warmup", "runs", "message"), [(-1, 3, "warmup.*-1"), (0, 0, "runs.*0")])
def test_measure_rejects_bad_counts(warmup: int, runs: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        measure(lambda: None, warmup=warmup, runs=runs)


def test_cpu_clock_leaves_out_time_spent_waiting() -> None:
    # What makes it robust on a shared machine: time the thread is not running is not counted.
    def wait() -> None:
        time.sleep(0.02)

    _, _, wall = measure(wait, warmup=0, runs=2, clock="wall")
    _, _, cpu = measure(wait, warmup=0, runs=2, clock="cpu")
    assert min(wall) >= 20 and max(cpu) < 10


def test_unknown_clock_is_rejected() -> None:
    with pytest.raises(ValueError, match="clock='sundial'"):
        measure(lambda: None, warmup=0, runs=1, clock="sundial")
