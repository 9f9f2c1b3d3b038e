"""Evaluate a trained codec with real bitstreams against a classic anchor codec.

For every image the codec really compresses and decompresses; bpp is the bitstream's length
(len(bytes) * 8 / pixels), never the likelihood estimate. Quality is measured on the decoded image
rounded to 8 bits, as a user would receive it. The anchor comparison is the anchor codec's bpp at
the same quality (the campaign's quality metric, on the anchor's cached rate–quality curve of the
same image): a ratio of 0.6 means 40% fewer bits than the anchor for the same quality.

Summary keys (the names campaign objectives use): the mean of every per-image value under the
same name ("bpp", "psnr", ...), "quality_ratio_vs_anchor" (geometric mean of the per-image ratios)
and the same value as "quality_ratio_vs_<anchor>" ("quality_ratio_vs_jpeg" for JPEG),
"anchor_extrapolated_fraction" and "images".
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import torch

from codec.anchor_codecs import ANCHOR_NAMES
from codec.anchors import anchor_curve, equal_quality_bpp
from codec.images import NamedImage, to_pixels, to_tensor
from codec.metrics import MS_SSIM_WINDOW
from codec.metrics import quality_metric as lookup_metric

if TYPE_CHECKING:
    from codec.model import LearnedCodec

DEFAULT_METRICS: tuple[str, ...] = ("psnr", "ms_ssim")
# The smallest side every quality metric can score (MS-SSIM's window): smaller evaluation images
# are skipped at load with a warning naming them, not failed on after a whole training run.
EVAL_MIN_SIDE = MS_SSIM_WINDOW
ANCHOR_KEYS = ("anchor_bpp_equal_quality", "bitrate_ratio_vs_anchor", "anchor_extrapolated")
TIMING_KEYS = ("encode_s", "decode_s")


class EvaluationError(RuntimeError):
    """The codec produced something unusable for an image (wrong shape, empty bitstream)."""


class ImageCoder(Protocol):
    """Anything that turns uint8 (H, W, 3) pixels into bytes and back (a tiled codec, ...)."""

    def encode(self, pixels: np.ndarray) -> bytes: ...

    def decode(self, data: bytes) -> np.ndarray: ...


class ModelCoder:
    """A LearnedCodec coding a whole image in one piece, at a rate position if it has several."""

    def __init__(self, model: LearnedCodec, rate: float | None = None) -> None:
        self.model = model
        self.rate = rate

    def encode(self, pixels: np.ndarray) -> bytes:
        with torch.inference_mode():
            if self.rate is None:
                return self.model.compress(to_tensor(pixels))
            return self.model.compress(to_tensor(pixels), rate=self.rate)  # type: ignore[call-arg,unused-ignore]

    def decode(self, data: bytes) -> np.ndarray:
        with torch.inference_mode():
            return to_pixels(self.model.decompress(data))


def rate_positions(model: LearnedCodec) -> list[float | None]:
    """[None] for a fixed-rate model; every trained rate point of a variable-rate one."""
    gains = getattr(model, "rate_gains", None)
    points = int(getattr(gains, "points", 1)) if gains is not None else 1
    return [None] if points <= 1 else [float(p) for p in range(points)]


def coder_for(model: LearnedCodec, rate: float | None = None) -> ImageCoder:
    """How the CLI codes images: tile by tile (codec/tiled_codec.py) with the tile size and
    margin the architecture names, at any rate position (each tile's bitstream records it)."""
    from codec.tiled_codec import TiledCodec

    return TiledCodec.for_model(model, rate=rate)


DecodedHandler = Callable[[str, np.ndarray], None]


@dataclass(frozen=True)
class EvaluationReport:
    quality_metric: str
    anchor: str
    per_image: dict[str, dict[str, float]]  # image name -> bpp, metrics, anchor keys, timings
    summary: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "quality_metric": self.quality_metric,
            "anchor": self.anchor,
            "per_image": self.per_image,
            "summary": self.summary,
        }


def _code_image(coder: ImageCoder, image: NamedImage) -> tuple[bytes, np.ndarray, float, float]:
    started = time.perf_counter()
    bitstream = coder.encode(image.pixels)
    encoded = time.perf_counter()
    decoded = coder.decode(bitstream)
    finished = time.perf_counter()
    if not bitstream:
        raise EvaluationError(f"image {image.name!r}: the codec produced an empty bitstream")
    if decoded.shape != image.pixels.shape or decoded.dtype != np.uint8:
        raise EvaluationError(
            f"image {image.name!r}: decoded {decoded.dtype} {decoded.shape} differs from the "
            f"input's uint8 {image.pixels.shape}"
        )
    return bitstream, decoded, encoded - started, finished - encoded


def _evaluate_image(
    coder: ImageCoder,
    image: NamedImage,
    metrics: Sequence[str],
    quality_metric: str,
    anchor: str,
    anchor_cache_dir: str | Path | None,
    on_decoded: DecodedHandler | None = None,
) -> dict[str, float]:
    bitstream, decoded, encode_s, decode_s = _code_image(coder, image)
    if on_decoded is not None:
        on_decoded(image.name, decoded)
    bpp = len(bitstream) * 8 / (image.height * image.width)
    row = {"bpp": bpp}
    for name in metrics:
        row[name] = lookup_metric(name).measure(image.pixels, decoded)
    curve = anchor_curve(image.pixels, anchor, metrics=[quality_metric], cache_dir=anchor_cache_dir)
    reference = equal_quality_bpp(curve, quality_metric, row[quality_metric])
    row.update(
        {
            "anchor_bpp_equal_quality": reference.bpp,
            "bitrate_ratio_vs_anchor": bpp / reference.bpp,
            "anchor_extrapolated": float(reference.extrapolated),
            "encode_s": encode_s,
            "decode_s": decode_s,
        }
    )
    return row


def summarise(per_image: dict[str, dict[str, float]], anchor: str) -> dict[str, float]:
    """Means of the per-image values, and the geometric mean of the bitrate ratios."""
    rows = list(per_image.values())
    summary = {key: sum(row[key] for row in rows) / len(rows) for key in rows[0]}
    del summary["anchor_bpp_equal_quality"], summary["bitrate_ratio_vs_anchor"]
    summary["anchor_extrapolated_fraction"] = summary.pop("anchor_extrapolated")
    ratios = [row["bitrate_ratio_vs_anchor"] for row in rows]
    # geometric mean: a 2x saving on one image and a 2x loss on another cancel out
    geometric = (
        math.exp(sum(math.log(r) for r in ratios) / len(ratios))
        if all(r > 0 for r in ratios)
        else 0.0
    )
    summary["quality_ratio_vs_anchor"] = geometric
    summary[f"quality_ratio_vs_{anchor}"] = geometric
    summary["images"] = float(len(rows))
    return summary


def _check_arguments(
    images: Sequence[NamedImage], metrics: Sequence[str], quality_metric: str, anchor: str
) -> list[str]:
    for name in (quality_metric, *metrics):
        lookup_metric(name)  # ValueError naming an unknown metric
    if anchor not in ANCHOR_NAMES:
        raise ValueError(f"unknown anchor {anchor!r}; expected one of {ANCHOR_NAMES}")
    if not images:
        raise ValueError("evaluate() needs at least one image, got none")
    names = [image.name for image in images]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"image names must be unique, repeated: {', '.join(duplicates)}")
    return list(dict.fromkeys([*metrics, quality_metric]))


def evaluate(
    codec: LearnedCodec | ImageCoder,
    images: Sequence[NamedImage],
    quality_metric: str = "psnr",
    anchor_cache_dir: str | Path | None = None,
    anchor: str = "jpeg",
    metrics: Sequence[str] = DEFAULT_METRICS,
    on_decoded: DecodedHandler | None = None,
) -> EvaluationReport:
    """Compress and decompress every image, measure `metrics`, compare with `anchor`.

    `codec` is a LearnedCodec, already in eval mode and prepared for coding (as `train` leaves
    it), or any ImageCoder such as a tiled codec. The anchor comparison uses `quality_metric`,
    which is measured whether or not `metrics` lists it. `on_decoded(name, pixels)` receives
    each decoded image (uint8 HxWx3), e.g. to keep reconstructions for viewing.
    """
    measured = _check_arguments(images, metrics, quality_metric, anchor)
    coder: ImageCoder = ModelCoder(codec) if isinstance(codec, torch.nn.Module) else codec
    per_image = {
        image.name: _evaluate_image(
            coder, image, measured, quality_metric, anchor, anchor_cache_dir, on_decoded
        )
        for image in images
    }
    return EvaluationReport(quality_metric, anchor, per_image, summarise(per_image, anchor))
