"""Evaluation of a tiny trained codec with real bitstreams against the anchor codecs."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from codec import LearnedCodec
from codec.anchors import anchor_curve, equal_quality_bpp
from codec.evaluation import ModelCoder, evaluate, rate_positions
from codec.images import NamedImage, to_pixels, to_tensor
from codec.metrics import ms_ssim, psnr
from codec.training import TrainingConfig, train
from tests.codec_train.models import photo_crops, tiny_codec

IMAGES = photo_crops()


@pytest.fixture(scope="module")
def trained() -> LearnedCodec:
    model = tiny_codec(hyperprior=True)
    train(
        model,
        IMAGES[:1],
        TrainingConfig(steps=60, batch_size=4, crop_size=32, learning_rate=3e-3, lmbda=0.01),
    )
    return model


def test_bpp_is_the_real_bitstream_length(trained: LearnedCodec, tmp_path: Path) -> None:
    report = evaluate(trained, IMAGES, anchor_cache_dir=tmp_path)
    assert list(report.per_image) == ["coffee", "chelsea"]
    for image in IMAGES:
        row = report.per_image[image.name]
        assert set(row) == {
            "bpp",
            "psnr",
            "ms_ssim",
            "anchor_bpp_equal_quality",
            "bitrate_ratio_vs_anchor",
            "anchor_extrapolated",
            "encode_s",
            "decode_s",
        }
        bitstream = trained.compress(to_tensor(image.pixels))
        assert row["bpp"] == len(bitstream) * 8 / (image.height * image.width)
        decoded = to_pixels(trained.decompress(bitstream))
        assert row["psnr"] == psnr(image.pixels, decoded)
        assert row["ms_ssim"] == ms_ssim(image.pixels, decoded)
        anchor = equal_quality_bpp(anchor_curve(image.pixels, "jpeg"), "psnr", row["psnr"])
        assert row["anchor_bpp_equal_quality"] == anchor.bpp
        assert row["bitrate_ratio_vs_anchor"] == pytest.approx(row["bpp"] / anchor.bpp)
        assert row["encode_s"] > 0 and row["decode_s"] > 0
    assert len(list(tmp_path.glob("jpeg-*.json"))) == 2


def test_summary_means_and_geometric_ratio(trained: LearnedCodec) -> None:
    report = evaluate(trained, IMAGES)
    rows = list(report.per_image.values())
    assert report.summary["bpp"] == pytest.approx(sum(r["bpp"] for r in rows) / 2)
    assert report.summary["psnr"] == pytest.approx(sum(r["psnr"] for r in rows) / 2)
    assert report.summary["ms_ssim"] == pytest.approx(sum(r["ms_ssim"] for r in rows) / 2)
    ratios = [r["bitrate_ratio_vs_anchor"] for r in rows]
    expected = math.sqrt(ratios[0] * ratios[1])
    assert report.summary["quality_ratio_vs_anchor"] == pytest.approx(expected)
    assert report.summary["quality_ratio_vs_jpeg"] == report.summary["quality_ratio_vs_anchor"]
    assert report.summary["images"] == 2
    assert report.anchor == "jpeg"


def test_other_metric_and_anchor(trained: LearnedCodec) -> None:
    report = evaluate(
        trained, IMAGES[:1], quality_metric="ssimulacra2", anchor="webp", metrics=["psnr"]
    )
    row = report.per_image["coffee"]
    assert set(row) >= {"psnr", "ssimulacra2"} and "ms_ssim" not in row
    curve = anchor_curve(IMAGES[0].pixels, "webp", ["ssimulacra2"])
    anchor = equal_quality_bpp(curve, "ssimulacra2", row["ssimulacra2"])
    assert row["anchor_bpp_equal_quality"] == anchor.bpp
    assert (
        "quality_ratio_vs_webp" in report.summary and "quality_ratio_vs_jpeg" not in report.summary
    )
    assert report.to_dict()["quality_metric"] == "ssimulacra2"


class Identity:
    """A lossless 'codec' storing raw pixels: the ImageCoder protocol without a model."""

    def encode(self, pixels: np.ndarray) -> bytes:
        return np.asarray(pixels.shape, np.uint32).tobytes() + pixels.tobytes()

    def decode(self, data: bytes) -> np.ndarray:
        shape = tuple(np.frombuffer(data[:12], np.uint32))
        return np.frombuffer(data[12:], np.uint8).reshape(shape).copy()


def test_any_image_coder_can_be_evaluated() -> None:
    report = evaluate(Identity(), IMAGES[:1])
    row = report.per_image["coffee"]
    assert row["bpp"] == pytest.approx(24 + 96 / (128 * 192))
    assert row["psnr"] == math.inf and row["anchor_extrapolated"] == 1.0


def test_model_coder_and_rate_positions(trained: LearnedCodec) -> None:
    assert rate_positions(trained) == [None]
    coder = ModelCoder(trained)
    pixels = IMAGES[1].pixels
    assert coder.decode(coder.encode(pixels)).shape == pixels.shape


def test_bad_arguments_are_named(trained: LearnedCodec) -> None:
    with pytest.raises(ValueError, match="'lpips'"):
        evaluate(trained, IMAGES, quality_metric="lpips")
    with pytest.raises(ValueError, match="'bpg'"):
        evaluate(trained, IMAGES, anchor="bpg")
    with pytest.raises(ValueError, match="repeated: coffee"):
        evaluate(trained, [IMAGES[0], NamedImage("coffee", IMAGES[1].pixels)])
