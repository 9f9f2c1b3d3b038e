"""Anchor rate–quality curves of the classic codecs, cached by image content, and equal-quality bpp.

A curve encodes an image at every quality setting of a classic codec (codec/anchor_codecs.py),
decodes it, and records the real file size in bpp and the requested quality metrics of the decoded
image. Curves are cached by image content hash in the process and, when a cache folder is given,
as one JSON file per codec, image and settings there, so a machine encodes each evaluation image
once per codec.

Metrics are measured only when asked: PSNR costs milliseconds, MS-SSIM, SSIMULACRA2 and FLIP about
a second per point of a Kodak image. A cached curve that lacks a requested metric is completed
(the points are re-encoded, which the deterministic encoders reproduce byte for byte) and stored
again with every metric it now has.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import tempfile
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from codec.anchor_codecs import ClassicCodec, anchor_codec
from codec.images import image_hash
from codec.metrics import quality_metric

logger = logging.getLogger(__name__)

# A codec that reproduces an image exactly has infinite PSNR / MS-SSIM dB; such values are
# capped here so that extrapolation gives a large but finite anchor bpp.
MAX_QUALITY_AXIS = 100.0
_CACHE_FORMAT = 2


@dataclass(frozen=True)
class RatePoint:
    setting: int  # the encoder's quality setting
    bpp: float  # file bytes * 8 / pixels
    metrics: dict[str, float]  # metric name -> value on the decoded image


@dataclass(frozen=True)
class AnchorCurve:
    codec: str
    image_hash: str
    points: tuple[RatePoint, ...]  # in the order of the settings encoded

    @property
    def metric_names(self) -> frozenset[str]:
        """The metrics every point carries."""
        return frozenset.intersection(*(frozenset(p.metrics) for p in self.points))


@dataclass(frozen=True)
class AnchorBpp:
    """The anchor's bpp at a quality; `extrapolated` when the quality lies outside its curve."""

    bpp: float
    extrapolated: bool


def _as_codec(codec: str | ClassicCodec) -> ClassicCodec:
    return codec if isinstance(codec, ClassicCodec) else anchor_codec(codec)


def _fingerprint(codec: ClassicCodec) -> str:
    settings = f"v{_CACHE_FORMAT}|{codec.name}|{list(codec.settings)}|{codec.fingerprint}"
    return hashlib.sha256(settings.encode()).hexdigest()[:16]


_memory_cache: dict[tuple[str, str], AnchorCurve] = {}
_memory_lock = threading.Lock()


def clear_memory_cache() -> None:
    """Forget the in-process curves (the on-disk cache is kept)."""
    with _memory_lock:
        _memory_cache.clear()


def _disk_path(cache_dir: str | Path, codec: str, digest: str, fingerprint: str) -> Path:
    return Path(cache_dir) / f"{codec}-{digest}-{fingerprint}.json"


def _read_disk_cache(path: Path, codec: str, digest: str) -> AnchorCurve | None:
    try:
        record = json.loads(path.read_text())
        points = tuple(
            RatePoint(int(p["setting"]), float(p["bpp"]), dict(p["metrics"]))
            for p in record["points"]
        )
        if record["image_hash"] != digest or not points:
            raise ValueError(f"entry is for image {record['image_hash']!r}, not {digest!r}")
        return AnchorCurve(codec, digest, points)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as error:
        logger.warning("ignoring unreadable anchor cache %s: %s", path, error)
        return None


def _write_disk_cache(path: Path, curve: AnchorCurve) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    points = [{"setting": p.setting, "bpp": p.bpp, "metrics": p.metrics} for p in curve.points]
    text = json.dumps({"codec": curve.codec, "image_hash": curve.image_hash, "points": points})
    # write then rename: concurrent workers never see a half-written file
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _measure(
    pixels: np.ndarray, codec: ClassicCodec, metrics: Iterable[str], known: AnchorCurve | None
) -> tuple[RatePoint, ...]:
    """Encode at every setting and measure `metrics`, keeping the values `known` already has."""
    wanted = list(dict.fromkeys(metrics))
    previous = {p.setting: p for p in known.points} if known is not None else {}
    n_pixels = pixels.shape[0] * pixels.shape[1]
    points = []
    for setting in codec.settings:
        data = codec.encode(pixels, setting)
        bpp = len(data) * 8 / n_pixels
        values: dict[str, float] = {}
        old = previous.get(setting)
        if old is not None and old.bpp == bpp:
            values.update(old.metrics)
        elif old is not None:
            logger.warning(
                "%s setting %d now gives %.5f bpp, cached %.5f: remeasuring",
                codec.name,
                setting,
                bpp,
                old.bpp,
            )
        missing = [name for name in wanted if name not in values]
        if missing:
            decoded = codec.decode(data)
            if decoded.shape != pixels.shape:
                raise ValueError(
                    f"{codec.name} at setting {setting} decoded to {decoded.shape}, "
                    f"not the input's {pixels.shape}"
                )
            for name in missing:
                values[name] = quality_metric(name).measure(pixels, decoded)
        points.append(RatePoint(setting, bpp, values))
    return tuple(points)


def anchor_curve(
    pixels: np.ndarray,
    codec: str | ClassicCodec = "jpeg",
    metrics: Sequence[str] = ("psnr",),
    cache_dir: str | Path | None = None,
) -> AnchorCurve:
    """The rate–quality curve of uint8 RGB pixels under `codec`, from cache when possible.

    Every point carries at least `metrics` (names from codec.metrics.QUALITY_METRICS), and any
    other metric that an earlier request measured.
    """
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ValueError(
            f"anchor_curve expects uint8 (H, W, 3) pixels, got {pixels.dtype} {pixels.shape}"
        )
    for name in metrics:
        quality_metric(name)  # unknown names fail before any encoding
    classic = _as_codec(codec)
    if not classic.settings:
        raise ValueError(f"anchor codec {classic.name!r} has no quality settings")
    digest = image_hash(pixels)
    fingerprint = _fingerprint(classic)
    key = (digest, f"{classic.name}-{fingerprint}")
    with _memory_lock:
        cached = _memory_cache.get(key)
    path = _disk_path(cache_dir, classic.name, digest, fingerprint) if cache_dir else None
    if cached is None and path is not None:
        cached = _read_disk_cache(path, classic.name, digest)
    if cached is None or not set(metrics) <= cached.metric_names:
        known = sorted(cached.metric_names) if cached is not None else []
        points = _measure(pixels, classic, [*known, *metrics], cached)
        cached = AnchorCurve(classic.name, digest, points)
        if path is not None:
            _write_disk_cache(path, cached)
    with _memory_lock:
        _memory_cache[key] = cached
    return cached


def _rising_front(curve: AnchorCurve, metric: str) -> list[tuple[float, float]]:
    """(quality axis, log bpp) of the points no other point beats on both, both increasing."""
    to_axis = quality_metric(metric).to_axis
    if metric not in curve.metric_names:
        raise ValueError(
            f"this {curve.codec} curve was measured without {metric}; "
            f"ask anchor_curve(..., metrics=[{metric!r}])"
        )
    front: list[tuple[float, float]] = []
    points = [(min(to_axis(p.metrics[metric]), MAX_QUALITY_AXIS), p.bpp) for p in curve.points]
    for quality, bpp in sorted(points, key=lambda qb: (qb[1], -qb[0])):
        if not front or quality > front[-1][0]:
            front.append((quality, math.log(bpp)))
    return front


def equal_quality_bpp(curve: AnchorCurve, metric: str, value: float) -> AnchorBpp:
    """The anchor's bpp at quality `value` of `metric` (PSNR dB, MS-SSIM in [0, 1], ...).

    Interpolates log(bpp) linearly against the metric's quality axis (PSNR dB, MS-SSIM dB
    -10 log10(1 - ms_ssim), SSIMULACRA2 score, FLIP -10 log10(error)). Points that another point
    beats on both rate and quality are dropped first, so the axis is strictly increasing. Outside
    the curve the two end points are extrapolated linearly and the result says so.
    """
    target = min(quality_metric(metric).to_axis(value), MAX_QUALITY_AXIS)
    front = _rising_front(curve, metric)
    if len(front) == 1:
        return AnchorBpp(math.exp(front[0][1]), extrapolated=target != front[0][0])
    qualities = [q for q, _ in front]
    log_rates = [r for _, r in front]
    if qualities[0] <= target <= qualities[-1]:
        return AnchorBpp(math.exp(float(np.interp(target, qualities, log_rates))), False)
    (q0, r0), (q1, r1) = (front[0], front[1]) if target < qualities[0] else (front[-2], front[-1])
    log_rate = r0 + (r1 - r0) * (target - q0) / (q1 - q0)
    return AnchorBpp(math.exp(min(log_rate, 700.0)), extrapolated=True)


@dataclass(frozen=True)
class MeanPoint:
    setting: int
    bpp: float  # mean over the images
    value: float  # mean metric value over the images (as published curves average them)


def mean_curve(curves: Sequence[AnchorCurve], metric: str) -> tuple[MeanPoint, ...]:
    """Per setting, the mean bpp and mean `metric` over several images' curves of one codec."""
    if not curves:
        raise ValueError("mean_curve needs at least one curve, got none")
    codecs = {c.codec for c in curves}
    settings = {tuple(p.setting for p in c.points) for c in curves}
    if len(codecs) != 1 or len(settings) != 1:
        raise ValueError(f"curves mix codecs or settings: {sorted(codecs)}, {sorted(settings)}")
    for curve in curves:
        if metric not in curve.metric_names:
            raise ValueError(f"a {curve.codec} curve was measured without {metric}")
    return tuple(
        MeanPoint(
            points[0].setting,
            float(np.mean([p.bpp for p in points])),
            float(np.mean([p.metrics[metric] for p in points])),
        )
        for points in zip(*(c.points for c in curves), strict=True)
    )
