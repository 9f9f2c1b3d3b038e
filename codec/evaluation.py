"""Evaluate a trained codec with real bitstreams against the JPEG anchor.

For every image the model really compresses and decompresses; bpp is the bitstream's length
(len(bytes) * 8 / pixels), never the likelihood estimate. Quality is measured on the decoded image
rounded to 8 bits, as a user would receive it. The anchor comparison is JPEG's bpp at the same
quality (PSNR or MS-SSIM): a ratio of 0.6 means 40% fewer bits than JPEG for the same quality.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from codec.anchors import QUALITY_METRICS, equal_quality_bpp, jpeg_curve
from codec.images import NamedImage, to_pixels, to_tensor
from codec.metrics import ms_ssim, psnr

if TYPE_CHECKING:
    from codec.model import LearnedCodec

PER_IMAGE_KEYS = (
    "bpp",
    "psnr",
    "ms_ssim",
    "jpeg_bpp_equal_quality",
    "bitrate_ratio_vs_jpeg",
    "jpeg_extrapolated",
    "encode_s",
    "decode_s",
)


class EvaluationError(RuntimeError):
    """The codec produced something unusable for an image (wrong shape, empty bitstream)."""


@dataclass(frozen=True)
class EvaluationReport:
    quality_metric: str
    per_image: dict[str, dict[str, float]]  # image name -> PER_IMAGE_KEYS
    summary: dict[str, float]  # means of the per-image values, quality_ratio_vs_jpeg, images

    def to_dict(self) -> dict[str, Any]:
        return {
            "quality_metric": self.quality_metric,
            "per_image": self.per_image,
            "summary": self.summary,
        }


def _evaluate_image(
    model: LearnedCodec, image: NamedImage, quality_metric: str, anchor_cache_dir: str | Path | None
) -> dict[str, float]:
    x = to_tensor(image.pixels)
    with torch.inference_mode():
        started = time.perf_counter()
        bitstream = model.compress(x)
        encoded = time.perf_counter()
        decoded = model.decompress(bitstream)
        finished = time.perf_counter()
    if not bitstream:
        raise EvaluationError(f"image {image.name!r}: the codec produced an empty bitstream")
    if tuple(decoded.shape) != tuple(x.shape):
        raise EvaluationError(
            f"image {image.name!r}: decoded shape {tuple(decoded.shape)} "
            f"differs from the input's {tuple(x.shape)}"
        )
    decoded_pixels = to_pixels(decoded)
    bpp = len(bitstream) * 8 / (image.height * image.width)
    image_psnr = psnr(image.pixels, decoded_pixels)
    image_ms_ssim = ms_ssim(image.pixels, decoded_pixels)
    quality = image_psnr if quality_metric == "psnr" else image_ms_ssim
    curve = jpeg_curve(
        image.pixels, cache_dir=anchor_cache_dir, with_ms_ssim=quality_metric == "ms_ssim"
    )
    anchor = equal_quality_bpp(curve, quality_metric, quality)
    return {
        "bpp": bpp,
        "psnr": image_psnr,
        "ms_ssim": image_ms_ssim,
        "jpeg_bpp_equal_quality": anchor.bpp,
        "bitrate_ratio_vs_jpeg": bpp / anchor.bpp,
        "jpeg_extrapolated": float(anchor.extrapolated),
        "encode_s": encoded - started,
        "decode_s": finished - encoded,
    }


def _summarise(per_image: dict[str, dict[str, float]]) -> dict[str, float]:
    rows = list(per_image.values())

    def mean(key: str) -> float:
        return sum(row[key] for row in rows) / len(rows)

    ratios = [row["bitrate_ratio_vs_jpeg"] for row in rows]
    # geometric mean: a 2x saving on one image and a 2x loss on another cancel out
    geometric = (
        math.exp(sum(math.log(r) for r in ratios) / len(ratios))
        if all(r > 0 for r in ratios)
        else 0.0
    )
    # Means are keyed like the per-image values ("bpp" is the mean bpp), the names that
    # campaign objectives use (nas/metrics.py).
    return {
        "bpp": mean("bpp"),
        "psnr": mean("psnr"),
        "ms_ssim": mean("ms_ssim"),
        "quality_ratio_vs_jpeg": geometric,
        "jpeg_extrapolated_fraction": mean("jpeg_extrapolated"),
        "encode_s": mean("encode_s"),
        "decode_s": mean("decode_s"),
        "images": float(len(rows)),
    }


def evaluate(
    model: LearnedCodec,
    images: Sequence[NamedImage],
    quality_metric: str = "psnr",
    anchor_cache_dir: str | Path | None = None,
) -> EvaluationReport:
    """Compress and decompress every image, measure it, and compare with JPEG at equal quality.

    The model must already be in eval mode and prepared for coding (as `train` leaves it).
    """
    if quality_metric not in QUALITY_METRICS:
        raise ValueError(
            f"unknown quality_metric {quality_metric!r}; expected one of {QUALITY_METRICS}"
        )
    if not images:
        raise ValueError("evaluate() needs at least one image, got none")
    names = [image.name for image in images]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"image names must be unique, repeated: {', '.join(duplicates)}")
    per_image = {
        image.name: _evaluate_image(model, image, quality_metric, anchor_cache_dir)
        for image in images
    }
    return EvaluationReport(quality_metric, per_image, _summarise(per_image))
