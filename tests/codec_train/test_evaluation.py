"""Evaluation of a tiny trained codec with real bitstreams against JPEG."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from codec import LearnedCodec
from codec.anchors import equal_quality_bpp, jpeg_curve
from codec.evaluation import PER_IMAGE_KEYS, evaluate
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
        assert set(row) == set(PER_IMAGE_KEYS)
        bitstream = trained.compress(to_tensor(image.pixels))
        assert row["bpp"] == len(bitstream) * 8 / (image.height * image.width)
        decoded = to_pixels(trained.decompress(bitstream))
        assert row["psnr"] == psnr(image.pixels, decoded)
        assert row["ms_ssim"] == ms_ssim(image.pixels, decoded)
        curve = jpeg_curve(image.pixels, with_ms_ssim=False)
        anchor = equal_quality_bpp(curve, "psnr", row["psnr"])
        assert row["jpeg_bpp_equal_quality"] == anchor.bpp
        assert row["bitrate_ratio_vs_jpeg"] == pytest.approx(row["bpp"] / anchor.bpp)
        assert row["encode_s"] > 0 and row["decode_s"] > 0
    assert len(list(tmp_path.glob("jpeg-*.json"))) == 2


def test_summary_means_and_geometric_ratio(trained: LearnedCodec) -> None:
    report = evaluate(trained, IMAGES)
    rows = list(report.per_image.values())
    assert report.summary["bpp"] == pytest.approx(sum(r["bpp"] for r in rows) / 2)
    assert report.summary["psnr"] == pytest.approx(sum(r["psnr"] for r in rows) / 2)
    assert report.summary["ms_ssim"] == pytest.approx(sum(r["ms_ssim"] for r in rows) / 2)
    ratios = [r["bitrate_ratio_vs_jpeg"] for r in rows]
    assert report.summary["quality_ratio_vs_jpeg"] == pytest.approx(
        math.sqrt(ratios[0] * ratios[1])
    )
    assert report.summary["images"] == 2


def test_ms_ssim_quality_metric(trained: LearnedCodec) -> None:
    report = evaluate(trained, IMAGES[:1], quality_metric="ms_ssim")
    row = report.per_image["coffee"]
    anchor = equal_quality_bpp(jpeg_curve(IMAGES[0].pixels), "ms_ssim", row["ms_ssim"])
    assert row["jpeg_bpp_equal_quality"] == anchor.bpp
    assert report.to_dict()["quality_metric"] == "ms_ssim"


def test_bad_arguments_are_named(trained: LearnedCodec) -> None:
    with pytest.raises(ValueError, match="'lpips'"):
        evaluate(trained, IMAGES, quality_metric="lpips")
    with pytest.raises(ValueError, match="repeated: coffee"):
        evaluate(trained, [IMAGES[0], NamedImage("coffee", IMAGES[1].pixels)])
