"""JPEG anchor: rate–quality curve of an image with Pillow, and JPEG's bpp at a given quality.

The curve is baseline JPEG as most photos are stored: 4:2:0 chroma subsampling, optimised Huffman
tables, qualities 5..95. bpp counts the real file bytes. Curves are cached by image content hash in
the process and, when a cache folder is given, as one JSON file per image and settings there, so a
machine encodes each evaluation image once.

MS-SSIM is by far the dearest part (about 1 s per point for a Kodak image on one core, against
milliseconds for encoding and PSNR), so a curve measures it only when asked; a curve that has it
also serves requests that do not need it.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import os
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import PIL
from PIL import Image

from codec.images import image_hash
from codec.metrics import ms_ssim, ms_ssim_db, psnr

logger = logging.getLogger(__name__)

QualityMetric = Literal["psnr", "ms_ssim"]
QUALITY_METRICS: tuple[str, ...] = ("psnr", "ms_ssim")
DEFAULT_QUALITIES: tuple[int, ...] = tuple(range(5, 96, 5))
_SUBSAMPLING = "4:2:0"
# A codec that reproduces an image exactly has infinite PSNR / MS-SSIM dB; such values are
# capped here so that extrapolation gives a large but finite anchor bpp.
MAX_QUALITY_DB = 100.0
_CACHE_FORMAT = 1


@dataclass(frozen=True)
class RatePoint:
    quality: int  # the encoder's quality setting
    bpp: float  # file bytes * 8 / pixels
    psnr: float  # dB, 8-bit peak, on the decoded image
    ms_ssim: float | None  # in [0, 1]; None when the curve was measured without MS-SSIM


@dataclass(frozen=True)
class JpegCurve:
    image_hash: str
    points: tuple[RatePoint, ...]  # in the order of the qualities encoded


@dataclass(frozen=True)
class AnchorBpp:
    """The anchor's bpp at a quality; `extrapolated` when the quality lies outside its curve."""

    bpp: float
    extrapolated: bool


def encode_jpeg(pixels: np.ndarray, quality: int) -> bytes:
    """Encode uint8 RGB pixels as a baseline 4:2:0 JPEG with optimised Huffman tables."""
    if not 1 <= quality <= 100:
        raise ValueError(f"JPEG quality must be in 1..100, got {quality}")
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(
        buffer, format="JPEG", quality=quality, subsampling=_SUBSAMPLING, optimize=True
    )
    return buffer.getvalue()


def _decode_jpeg(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()


def _measure_curve(
    pixels: np.ndarray, qualities: Sequence[int], with_ms_ssim: bool
) -> tuple[RatePoint, ...]:
    n_pixels = pixels.shape[0] * pixels.shape[1]
    points = []
    for quality in qualities:
        data = encode_jpeg(pixels, quality)
        decoded = _decode_jpeg(data)
        points.append(
            RatePoint(
                quality,
                len(data) * 8 / n_pixels,
                psnr(pixels, decoded),
                ms_ssim(pixels, decoded) if with_ms_ssim else None,
            )
        )
    return tuple(points)


def _settings_fingerprint(qualities: Sequence[int], with_ms_ssim: bool) -> str:
    # libjpeg output can change with the Pillow build; a new build gets new cache entries.
    settings = (
        f"v{_CACHE_FORMAT}|{list(qualities)}|{_SUBSAMPLING}|optimize|"
        f"pillow {PIL.__version__}|ms_ssim {with_ms_ssim}"
    )
    return hashlib.sha256(settings.encode()).hexdigest()[:16]


_memory_cache: dict[tuple[str, str], JpegCurve] = {}
_memory_lock = threading.Lock()


def clear_memory_cache() -> None:
    """Forget the in-process curves (the on-disk cache is kept)."""
    with _memory_lock:
        _memory_cache.clear()


def _read_disk_cache(path: Path, digest: str) -> JpegCurve | None:
    try:
        record = json.loads(path.read_text())
        points = tuple(RatePoint(**point) for point in record["points"])
        if record["image_hash"] != digest or not points:
            raise ValueError(f"entry is for image {record['image_hash']!r}, not {digest!r}")
        return JpegCurve(digest, points)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as error:
        logger.warning("ignoring unreadable JPEG anchor cache %s: %s", path, error)
        return None


def _write_disk_cache(path: Path, curve: JpegCurve) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(
        {"image_hash": curve.image_hash, "points": [asdict(point) for point in curve.points]}
    )
    # write then rename: concurrent workers never see a half-written file
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def jpeg_curve(
    pixels: np.ndarray,
    cache_dir: str | Path | None = None,
    qualities: Sequence[int] = DEFAULT_QUALITIES,
    with_ms_ssim: bool = True,
) -> JpegCurve:
    """The JPEG rate–quality curve of uint8 RGB pixels, from cache when possible.

    Without `with_ms_ssim` the points carry PSNR only (ms_ssim None), much faster to measure.
    """
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ValueError(
            f"jpeg_curve expects uint8 (H, W, 3) pixels, got {pixels.dtype} {pixels.shape}"
        )
    if not qualities:
        raise ValueError("jpeg_curve needs at least one quality, got none")
    digest = image_hash(pixels)
    # a curve with MS-SSIM also answers a request without it
    acceptable = [True] if with_ms_ssim else [False, True]
    for measured_ms_ssim in acceptable:
        cached = _cached_curve(
            digest, _settings_fingerprint(qualities, measured_ms_ssim), cache_dir
        )
        if cached is not None:
            return cached
    fingerprint = _settings_fingerprint(qualities, with_ms_ssim)
    curve = JpegCurve(digest, _measure_curve(pixels, qualities, with_ms_ssim))
    if cache_dir:
        _write_disk_cache(_disk_path(cache_dir, digest, fingerprint), curve)
    with _memory_lock:
        _memory_cache[(digest, fingerprint)] = curve
    return curve


def _disk_path(cache_dir: str | Path, digest: str, fingerprint: str) -> Path:
    return Path(cache_dir) / f"jpeg-{digest}-{fingerprint}.json"


def _cached_curve(digest: str, fingerprint: str, cache_dir: str | Path | None) -> JpegCurve | None:
    """From the process cache, else from the disk cache (then kept in the process cache)."""
    with _memory_lock:
        cached = _memory_cache.get((digest, fingerprint))
    if cached is not None or not cache_dir:
        return cached
    cached = _read_disk_cache(_disk_path(cache_dir, digest, fingerprint), digest)
    if cached is not None:
        with _memory_lock:
            _memory_cache[(digest, fingerprint)] = cached
    return cached


def _quality_axis(point: RatePoint, metric: str) -> float:
    if metric == "psnr":
        return point.psnr
    if point.ms_ssim is None:
        raise ValueError(
            "this JPEG curve was measured without MS-SSIM; call jpeg_curve(..., with_ms_ssim=True)"
        )
    return ms_ssim_db(point.ms_ssim)


def equal_quality_bpp(curve: JpegCurve, metric: str, value: float) -> AnchorBpp:
    """The anchor's bpp at quality `value` (PSNR in dB, or MS-SSIM in [0, 1]).

    Interpolates log(bpp) linearly against the quality axis (PSNR dB, or MS-SSIM in dB,
    -10 log10(1 - ms_ssim)). Points that another point beats on both rate and quality are
    dropped first, so the axis is strictly increasing. Outside the curve the two end points are
    extrapolated linearly and the result says so.
    """
    if metric not in QUALITY_METRICS:
        raise ValueError(f"unknown quality metric {metric!r}; expected one of {QUALITY_METRICS}")
    if math.isnan(value):
        raise ValueError(f"{metric} value is NaN")
    target = value if metric == "psnr" else ms_ssim_db(value)
    target = min(target, MAX_QUALITY_DB)
    front: list[tuple[float, float]] = []  # (quality axis, log bpp), both strictly increasing
    for point in sorted(curve.points, key=lambda p: (p.bpp, -_quality_axis(p, metric))):
        quality = min(_quality_axis(point, metric), MAX_QUALITY_DB)
        if not front or quality > front[-1][0]:
            front.append((quality, math.log(point.bpp)))
    if len(front) == 1:
        return AnchorBpp(math.exp(front[0][1]), extrapolated=target != front[0][0])
    qualities = [q for q, _ in front]
    log_rates = [r for _, r in front]
    if qualities[0] <= target <= qualities[-1]:
        return AnchorBpp(math.exp(float(np.interp(target, qualities, log_rates))), False)
    (q0, r0), (q1, r1) = (front[0], front[1]) if target < qualities[0] else (front[-2], front[-1])
    log_rate = r0 + (r1 - r0) * (target - q0) / (q1 - q0)
    return AnchorBpp(math.exp(min(log_rate, 700.0)), extrapolated=True)
