"""Anchor curves on a real photo, their caches, and equal-quality interpolation."""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from codec.anchor_codecs import jpeg_codec
from codec.anchors import (
    AnchorBpp,
    AnchorCurve,
    RatePoint,
    anchor_curve,
    clear_memory_cache,
    equal_quality_bpp,
    mean_curve,
)
from codec.images import load_images


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return load_images("skimage:coffee")[0].pixels[100:164, 200:296].copy()  # 64 x 96


class Counting:
    """A JPEG anchor that counts its real encodes."""

    def __init__(self, settings: tuple[int, ...] | None = None) -> None:
        self.calls: list[int] = []
        base = jpeg_codec()
        self.codec = dataclasses.replace(
            base, encode=self._encode, settings=settings or base.settings
        )
        self._real = base.encode

    def _encode(self, pixels: np.ndarray, setting: int) -> bytes:
        self.calls.append(setting)
        return self._real(pixels, setting)


@pytest.fixture
def counting() -> Iterator[Counting]:
    clear_memory_cache()
    yield Counting()
    clear_memory_cache()


def test_curve_is_real_and_monotone_ish(photo: np.ndarray, counting: Counting) -> None:
    curve = anchor_curve(photo, counting.codec, ["psnr", "ms_ssim"])
    assert [p.setting for p in curve.points] == list(range(5, 96, 5))
    pixels = photo.shape[0] * photo.shape[1]
    assert curve.points[3].bpp == len(jpeg_codec().encode(photo, 20)) * 8 / pixels
    bpps = [p.bpp for p in curve.points]
    psnrs = [p.metrics["psnr"] for p in curve.points]
    assert bpps == sorted(bpps)
    assert sum(b < a for a, b in itertools.pairwise(psnrs)) <= 1
    assert psnrs[-1] > psnrs[0] + 10
    assert curve.points[0].metrics["ms_ssim"] < curve.points[-1].metrics["ms_ssim"] < 1.0


def test_second_call_does_not_encode_again(photo: np.ndarray, counting: Counting) -> None:
    first = anchor_curve(photo, counting.codec)
    assert len(counting.calls) == 19
    assert anchor_curve(photo.copy(), counting.codec) == first  # keyed by content
    assert len(counting.calls) == 19


def test_a_missing_metric_completes_the_cached_curve(
    photo: np.ndarray, counting: Counting, tmp_path: Path
) -> None:
    fast = anchor_curve(photo, counting.codec, ["psnr"], tmp_path)
    assert fast.metric_names == {"psnr"}
    with pytest.raises(ValueError, match="without ms_ssim"):
        equal_quality_bpp(fast, "ms_ssim", 0.95)
    full = anchor_curve(photo, counting.codec, ["ms_ssim"], tmp_path)
    assert full.metric_names == {"psnr", "ms_ssim"}
    assert [p.metrics["psnr"] for p in full.points] == [p.metrics["psnr"] for p in fast.points]
    assert len(counting.calls) == 38  # completed by re-encoding, the bpp checked equal
    clear_memory_cache()
    assert anchor_curve(photo, counting.codec, ["psnr"], tmp_path) == full  # from disk
    assert len(counting.calls) == 38


def test_disk_cache_survives_the_process_cache(
    photo: np.ndarray, tmp_path: Path, counting: Counting
) -> None:
    first = anchor_curve(photo, counting.codec, cache_dir=tmp_path)
    files = list(tmp_path.glob("jpeg-*.json"))
    assert len(files) == 1 and len(counting.calls) == 19
    clear_memory_cache()
    assert anchor_curve(photo, counting.codec, cache_dir=tmp_path) == first
    assert len(counting.calls) == 19
    assert json.loads(files[0].read_text())["image_hash"] == first.image_hash


def test_other_settings_are_other_entries(photo: np.ndarray, tmp_path: Path) -> None:
    clear_memory_cache()
    anchor_curve(photo, jpeg_codec(optimize=True), cache_dir=tmp_path)
    anchor_curve(photo, jpeg_codec(optimize=False), cache_dir=tmp_path)
    assert len(list(tmp_path.glob("jpeg-*.json"))) == 2


def test_corrupt_disk_cache_is_recomputed(
    photo: np.ndarray, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    small = photo[:32, :32].copy()
    counting = Counting(settings=(10, 50))
    clear_memory_cache()
    first = anchor_curve(small, counting.codec, cache_dir=tmp_path)
    (cache_file,) = tmp_path.glob("jpeg-*.json")
    cache_file.write_text("{not json")
    clear_memory_cache()
    with caplog.at_level(logging.WARNING, logger="codec.anchors"):
        assert anchor_curve(small, counting.codec, cache_dir=tmp_path) == first
    assert cache_file.name in caplog.text
    assert len(counting.calls) == 4
    assert json.loads(cache_file.read_text())["image_hash"] == first.image_hash


@pytest.mark.parametrize("name", ["webp", "avif", "jxl"])
def test_every_anchor_codec_gives_a_rising_curve(photo: np.ndarray, name: str) -> None:
    curve = anchor_curve(photo, name)
    assert curve.codec == name and len(curve.points) >= 10
    first, last = curve.points[0], curve.points[-1]
    assert first.bpp < last.bpp and first.metrics["psnr"] < last.metrics["psnr"]


def test_bad_arguments_are_named(photo: np.ndarray) -> None:
    with pytest.raises(ValueError, match="'heic'"):
        anchor_curve(photo, "heic")
    with pytest.raises(ValueError, match="'lpips'"):
        anchor_curve(photo, "jpeg", ["lpips"])
    with pytest.raises(ValueError, match="float64"):
        anchor_curve(photo.astype(np.float64))


def synthetic_curve(*points: tuple[float, float, float]) -> AnchorCurve:
    return AnchorCurve(
        "synthetic",
        "hash",
        tuple(
            RatePoint(10 * i, bpp, {"psnr": psnr, "ms_ssim": ssim})
            for i, (bpp, psnr, ssim) in enumerate(points)
        ),
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


def test_mean_curve_averages_per_setting() -> None:
    other = synthetic_curve((1.5, 32.0, 0.95), (2.0, 37.0, 0.995), (3.0, 42.0, 0.9995))
    means = mean_curve([CURVE, other], "psnr")
    assert [(p.setting, p.bpp, p.value) for p in means] == [
        (0, 1.0, 31.0),
        (10, 1.5, 36.0),
        (20, 2.5, 41.0),
    ]
    with pytest.raises(ValueError, match="mix"):
        mean_curve([CURVE, synthetic_curve((1.0, 35.0, 0.99))], "psnr")
