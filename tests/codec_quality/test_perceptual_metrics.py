"""SSIMULACRA2 and FLIP on pairs whose answer is known, and the metric registry."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from PIL import Image

from codec.images import load_images
from codec.metrics import QUALITY_METRICS, flip, flip_db, quality_metric, ssimulacra2


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return load_images("skimage:astronaut")[0].pixels[96:352, 96:352].copy()  # 256 x 256


def jpeg(pixels: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=quality, subsampling="4:2:0")
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))


def test_identical_images_score_perfectly(photo: np.ndarray) -> None:
    assert ssimulacra2(photo, photo) == pytest.approx(100.0)
    assert flip(photo, photo) == pytest.approx(0.0, abs=1e-7)
    assert flip_db(0.0) == math.inf


def test_scores_follow_jpeg_quality(photo: np.ndarray) -> None:
    low, mid, high = (jpeg(photo, q) for q in (10, 50, 90))
    s_low, s_mid, s_high = (ssimulacra2(photo, d) for d in (low, mid, high))
    assert s_low < s_mid < s_high < 100.0
    f_low, f_mid, f_high = (flip(photo, d) for d in (low, mid, high))
    assert f_low > f_mid > f_high > 0.0


def test_ssimulacra2_matches_its_published_calibration(photo: np.ndarray) -> None:
    # libjxl's ssimulacra2 README: libjpeg-turbo 4:2:0 quality 90 scores about 85 ("excellent"),
    # quality 14 about 10 ("very low quality"); one photo scatters around these averages.
    assert 75.0 < ssimulacra2(photo, jpeg(photo, 90)) < 92.0
    assert -20.0 < ssimulacra2(photo, jpeg(photo, 14)) < 40.0


def test_flip_of_black_against_white_is_large() -> None:
    black = np.zeros((32, 32, 3), np.uint8)
    white = np.full((32, 32, 3), 255, np.uint8)
    assert flip(black, white) > 0.5


@pytest.mark.parametrize(
    "name, better, worse",
    [
        ("psnr", 40.0, 20.0),
        ("ms_ssim", 0.99, 0.9),
        ("ssimulacra2", 80.0, 30.0),
        ("flip", 0.01, 0.2),
    ],
)
def test_axes_rise_with_quality(name: str, better: float, worse: float) -> None:
    metric = QUALITY_METRICS[name]
    assert metric.to_axis(better) > metric.to_axis(worse)
    assert metric.higher_is_better == (name != "flip")


def test_bad_inputs_are_named() -> None:
    with pytest.raises(ValueError, match="'lpips'"):
        quality_metric("lpips")
    tiny = np.zeros((4, 4, 3), np.uint8)
    with pytest.raises(ValueError, match="at least 8x8"):
        ssimulacra2(tiny, tiny)
    with pytest.raises(ValueError, match=r"\(16, 16\)"):
        flip(np.zeros((16, 16), np.uint8), np.zeros((16, 16), np.uint8))
    with pytest.raises(ValueError, match="-1"):
        flip_db(-1.0)
