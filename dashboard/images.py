"""Pictures for the viewer: originals, and JPEG/AVIF encodings of them at a trial's bpp.

Originals are not stored with a trial: they come from the campaign spec's ``data.eval`` source
(a folder or ``skimage:NAME,...``), loaded once per source. An anchor "at the same bpp" is the
encoding, at the quality setting whose bpp is closest to the trial's bpp on that image; finding
it takes a handful of encodes (a bisection over the quality), so the decoded PNG and its figures
are cached on disk, keyed by the image's content hash, the codec and the target bpp.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import tempfile
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from codec.anchor_codecs import ClassicCodec, anchor_codec
from codec.anchors import anchor_curve
from codec.images import NamedImage, image_hash, load_images
from codec.metrics import psnr
from nas.errors import InvalidValueError, NotFoundError

# The anchors of the viewer and the rating page, with the range of their quality setting.
ANCHOR_RANGES: dict[str, tuple[int, int]] = {"jpeg": (1, 100), "avif": (0, 100)}
_CACHE_VERSION = 1


@dataclass(frozen=True)
class AnchorPoint:
    codec: str
    quality: int
    bpp: float
    psnr: float


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _codec(name: str) -> tuple[ClassicCodec, int, int]:
    if name not in ANCHOR_RANGES:
        raise InvalidValueError(f"unknown anchor codec {name!r}; known: {sorted(ANCHOR_RANGES)}")
    return anchor_codec(name), *ANCHOR_RANGES[name]


class ImageService:
    def __init__(self, cache_dir: Path, anchor_cache: Path | None = None) -> None:
        self.cache_dir = Path(cache_dir)
        self._anchor_cache = anchor_cache
        self._sources: dict[str, dict[str, NamedImage]] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ originals

    def originals(self, source: str) -> dict[str, NamedImage]:
        """The images of an eval source by name, loaded once per process."""
        with self._lock:
            if source not in self._sources:
                self._sources[source] = {image.name: image for image in load_images(source)}
            return self._sources[source]

    def original(self, source: str, name: str) -> NamedImage:
        images = self.originals(source)
        if name not in images:
            raise NotFoundError(
                f"image {name!r} is not in the eval source {source!r} (it has {sorted(images)})"
            )
        return images[name]

    def original_png(self, image: NamedImage) -> Path:
        path = self.cache_dir / "originals" / f"{image_hash(image.pixels)}.png"
        if not path.is_file():
            _write_atomically(path, _png(image.pixels))
        return path

    # ------------------------------------------------------------------ anchors at a bpp

    def anchor_at_bpp(self, image: NamedImage, codec: str, bpp: float) -> tuple[AnchorPoint, Path]:
        """The ``codec`` encoding of ``image`` whose bpp is closest to ``bpp``, decoded to PNG."""
        classic, low, high = _codec(codec)
        if not (isinstance(bpp, float | int) and 0 < bpp < 100):
            raise InvalidValueError(f"target bpp must be in (0, 100), got {bpp!r}")
        # A new encoder build may encode differently: its fingerprint is part of the key.
        build = hashlib.sha256(f"{classic.fingerprint}|v{_CACHE_VERSION}".encode()).hexdigest()
        key = f"{image_hash(image.pixels)[:24]}-{codec}-{bpp:.4f}-{build[:12]}"
        png_path = self.cache_dir / "same-bpp" / f"{key}.png"
        meta_path = png_path.with_suffix(".json")
        if png_path.is_file() and meta_path.is_file():
            return AnchorPoint(**json.loads(meta_path.read_text())), png_path
        pixels = image.pixels
        n_pixels = pixels.shape[0] * pixels.shape[1]
        encoded: dict[int, bytes] = {}
        # The codec's curve (cached by codec.anchors) gives exact rates at its settings: the
        # search starts from the two settings around the target instead of the whole range.
        rates = {p.quality: p.bpp for p in self.anchor_curve(image, codec)}

        def rate(quality: int) -> float:
            if quality not in rates:
                encoded[quality] = classic.encode(pixels, quality)
                rates[quality] = len(encoded[quality]) * 8 / n_pixels
            return rates[quality]

        below = max((q for q in rates if rates[q] <= bpp), default=low)
        above = min((q for q in rates if rates[q] >= bpp and q > below), default=high)
        # bpp grows with the quality setting: shrink the bracket by interpolating log(bpp).
        while above - below > 1:
            r_below, r_above = math.log(rate(below)), math.log(rate(above))
            share = (math.log(bpp) - r_below) / (r_above - r_below) if r_above > r_below else 0.5
            guess = min(above - 1, max(below + 1, round(below + share * (above - below))))
            if rate(guess) <= bpp:
                below = guess
            else:
                above = guess
        best = min((below, above), key=lambda q: (abs(rate(q) - bpp), q))
        if best not in encoded:
            encoded[best] = classic.encode(pixels, best)
        decoded = classic.decode(encoded[best])
        point = AnchorPoint(codec, best, rate(best), psnr(pixels, decoded))
        _write_atomically(png_path, _png(decoded))
        _write_atomically(meta_path, json.dumps(asdict(point)).encode())
        return point, png_path

    # ------------------------------------------------------------------ rate–quality curves

    def anchor_curve(self, image: NamedImage, codec: str) -> list[AnchorPoint]:
        """The codec's (bpp, PSNR) curve on the image (codec.anchors caches it)."""
        classic, _, _ = _codec(codec)
        curve = anchor_curve(image.pixels, classic, ("psnr",), cache_dir=self._anchor_cache)
        return [AnchorPoint(codec, p.setting, p.bpp, p.metrics["psnr"]) for p in curve.points]
