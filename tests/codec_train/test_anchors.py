"""JPEG anchor curves on a real photo, their caches, and equal-quality interpolation."""

from __future__ import annotations

import itertools
import json
import logging
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from codec import anchors
from codec.anchors import (
    AnchorBpp,
    JpegCurve,
    RatePoint,
    clear_memory_cache,
    encode_jpeg,
    equal_quality_bpp,
    jpeg_curve,
)
from codec.images import load_images


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return load_images("skimage:coffee")[0].pixels[100:164, 200:296].copy()  # 64 x 96


@pytest.fixture
def encode_counter(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Counts real JPEG encodes by wrapping the module's encoder."""
    clear_memory_cache()
    calls: list[int] = []
    real = anchors.encode_jpeg

    def counting(pixels: np.ndarray, quality: int) -> bytes:
        calls.append(quality)
        return real(pixels, quality)

    monkeypatch.setattr(anchors, "encode_jpeg", counting)
    yield calls
    clear_memory_cache()


def test_curve_is_real_and_monotone_ish(photo: np.ndarray, encode_counter: list[int]) -> None:
    curve = jpeg_curve(photo)
    assert [p.quality for p in curve.points] == list(range(5, 96, 5))
    pixels = photo.shape[0] * photo.shape[1]
    assert curve.points[3].bpp == len(encode_jpeg(photo, 20)) * 8 / pixels
    bpps = [p.bpp for p in curve.points]
    psnrs = [p.psnr for p in curve.points]
    assert bpps == sorted(bpps)
    assert sum(b < a for a, b in itertools.pairwise(psnrs)) <= 1
    assert psnrs[-1] > psnrs[0] + 10
    lowest, highest = curve.points[0].ms_ssim, curve.points[-1].ms_ssim
    assert lowest is not None and highest is not None and lowest < highest < 1.0


def test_second_call_does_not_encode_again(photo: np.ndarray, encode_counter: list[int]) -> None:
    first = jpeg_curve(photo)
    assert len(encode_counter) == 19
    assert jpeg_curve(photo.copy()) == first  # keyed by content, not by object
    assert len(encode_counter) == 19


def test_psnr_only_curve_and_reuse_of_a_full_curve(
    photo: np.ndarray, encode_counter: list[int]
) -> None:
    fast = jpeg_curve(photo, with_ms_ssim=False)
    assert all(p.ms_ssim is None for p in fast.points) and len(encode_counter) == 19
    with pytest.raises(ValueError, match="without MS-SSIM"):
        equal_quality_bpp(fast, "ms_ssim", 0.95)
    full = jpeg_curve(photo)
    assert [p.psnr for p in full.points] == [p.psnr for p in fast.points]
    clear_memory_cache()
    full = jpeg_curve(photo)
    assert jpeg_curve(photo, with_ms_ssim=False) == full  # the full curve answers, no encode
    assert len(encode_counter) == 57


def test_disk_cache_survives_the_process_cache(
    photo: np.ndarray, tmp_path: Path, encode_counter: list[int]
) -> None:
    first = jpeg_curve(photo, cache_dir=tmp_path)
    files = list(tmp_path.glob("jpeg-*.json"))
    assert len(files) == 1 and len(encode_counter) == 19
    clear_memory_cache()
    assert jpeg_curve(photo, cache_dir=tmp_path) == first
    assert len(encode_counter) == 19
    assert json.loads(files[0].read_text())["image_hash"] == first.image_hash


def test_corrupt_disk_cache_is_recomputed(
    photo: np.ndarray, tmp_path: Path, encode_counter: list[int], caplog: pytest.LogCaptureFixture
) -> None:
    small = photo[:32, :32].copy()
    first = jpeg_curve(small, cache_dir=tmp_path, qualities=(10, 50))
    (cache_file,) = tmp_path.glob("jpeg-*.json")
    cache_file.write_text("{not json")
    clear_memory_cache()
    with caplog.at_level(logging.WARNING, logger="codec.anchors"):
        assert jpeg_curve(small, cache_dir=tmp_path, qualities=(10, 50)) == first
    assert cache_file.name in caplog.text
    assert len(encode_counter) == 4
    assert json.loads(cache_file.read_text())["image_hash"] == first.image_hash


def synthetic_curve(*points: tuple[float, float, float]) -> JpegCurve:
    return JpegCurve(
        "synthetic",
        tuple(RatePoint(10 * i, bpp, psnr, ssim) for i, (bpp, psnr, ssim) in enumerate(points)),
    )


CURVE = synthetic_curve((0.5, 30.0, 0.9), (1.0, 35.0, 0.99), (2.0, 40.0, 0.999))


def test_interpolation_in_log_rate() -> None:
    assert equal_quality_bpp(CURVE, "psnr", 35.0) == AnchorBpp(1.0, False)
    middle = equal_quality_bpp(CURVE, "psnr", 32.5)
    assert middle.bpp == pytest.approx(math.sqrt(0.5)) and not middle.extrapolated
    ssim = equal_quality_bpp(CURVE, "ms_ssim", 1 - 10**-2.5)  # 25 dB, half way in dB
    assert ssim.bpp == pytest.approx(math.sqrt(2.0)) and not ssim.extrapolated


def test_extrapolation_beyond_both_ends_is_flagged() -> None:
    high = equal_quality_bpp(CURVE, "psnr", 45.0)
    assert high.bpp == pytest.approx(4.0) and high.extrapolated
    low = equal_quality_bpp(CURVE, "psnr", 25.0)
    assert low.bpp == pytest.approx(0.25) and low.extrapolated
    perfect = equal_quality_bpp(CURVE, "psnr", math.inf)
    assert math.isfinite(perfect.bpp) and perfect.extrapolated
    assert math.isfinite(equal_quality_bpp(CURVE, "ms_ssim", 1.0).bpp)


def test_dominated_points_are_dropped_and_order_does_not_matter() -> None:
    shuffled = synthetic_curve(
        (2.0, 40.0, 0.999), (1.2, 34.0, 0.98), (0.5, 30.0, 0.9), (1.0, 35.0, 0.99)
    )
    assert equal_quality_bpp(shuffled, "psnr", 32.5).bpp == pytest.approx(math.sqrt(0.5))


def test_single_point_curve_and_bad_arguments() -> None:
    single = synthetic_curve((1.0, 35.0, 0.99))
    assert equal_quality_bpp(single, "psnr", 35.0) == AnchorBpp(1.0, False)
    assert equal_quality_bpp(single, "psnr", 20.0) == AnchorBpp(1.0, True)
    with pytest.raises(ValueError, match="'lpips'"):
        equal_quality_bpp(CURVE, "lpips", 0.1)
    with pytest.raises(ValueError, match="NaN"):
        equal_quality_bpp(CURVE, "psnr", math.nan)
