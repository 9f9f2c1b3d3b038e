"""The classic codecs that learned codecs are compared with: JPEG, WebP, AVIF and JPEG XL.

Each is an encoder and a decoder of uint8 RGB pixels with a ladder of quality settings. JPEG, WebP
and AVIF come from Pillow (libjpeg-turbo, libwebp, libavif), JPEG XL from `imagecodecs` (libjxl).
Settings are the ones a photo is usually stored with:

- jpeg: 4:2:0 chroma subsampling and optimised Huffman tables (Pillow's default leaves them off,
  which costs JPEG a few percent), qualities 5..95;
- webp: Pillow's defaults (lossy, method 4), qualities 5..95;
- avif: Pillow's defaults (4:2:0, speed 6), qualities 10..90 and 95 (about 1 s per Kodak image
  at speed 6, so fewer points than the fast codecs);
- jxl: libjxl's defaults (effort 7), quality levels 10..95 (level 90 = Butteraugli distance 1).

`fingerprint` names the library versions and options, so cached curves are recomputed when a
new build could encode differently.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import PIL
from PIL import Image, features

Encoder = Callable[[np.ndarray, int], bytes]
Decoder = Callable[[bytes], np.ndarray]


@dataclass(frozen=True)
class ClassicCodec:
    name: str  # the key campaigns and the CLI use: "jpeg", "webp", "avif", "jxl"
    label: str  # for tables and plots
    settings: tuple[int, ...]  # the quality ladder a curve is measured at
    encode: Encoder  # (uint8 (H, W, 3) pixels, setting) -> file bytes
    decode: Decoder  # file bytes -> uint8 (H, W, 3) pixels
    fingerprint: str  # library versions and options that change the output


def _pillow_decode(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()


def _pillow_encoder(format_name: str, **options: object) -> Encoder:
    def encode(pixels: np.ndarray, setting: int) -> bytes:
        buffer = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(pixels)).save(
            buffer, format=format_name, quality=int(setting), **options
        )
        return buffer.getvalue()

    return encode


def jpeg_codec(optimize: bool = True, subsampling: str = "4:2:0") -> ClassicCodec:
    """JPEG through Pillow; `optimize=False` gives Pillow's defaults (as CompressAI measured)."""
    options = {"subsampling": subsampling, "optimize": optimize}
    return ClassicCodec(
        "jpeg",
        f"JPEG ({subsampling}{', optimised' if optimize else ''})",
        tuple(range(5, 96, 5)),
        _pillow_encoder("JPEG", **options),
        _pillow_decode,
        f"pillow {PIL.__version__} jpeg {features.version('jpg')} {sorted(options.items())}",
    )


def webp_codec(method: int = 4) -> ClassicCodec:
    return ClassicCodec(
        "webp",
        "WebP",
        tuple(range(5, 96, 5)),
        _pillow_encoder("WEBP", method=method),
        _pillow_decode,
        f"pillow {PIL.__version__} webp {features.version('webp')} method {method}",
    )


def avif_codec(speed: int = 6) -> ClassicCodec:
    if not features.check("avif"):
        raise RuntimeError(f"this Pillow ({PIL.__version__}) was built without AVIF support")
    return ClassicCodec(
        "avif",
        "AVIF",
        (*range(10, 91, 10), 95),
        _pillow_encoder("AVIF", speed=speed, subsampling="4:2:0"),
        _pillow_decode,
        f"pillow {PIL.__version__} avif {features.version('avif')} speed {speed} 4:2:0",
    )


def jxl_codec(effort: int = 7) -> ClassicCodec:
    import imagecodecs  # a large native package: loaded only when JPEG XL is asked for

    def encode(pixels: np.ndarray, setting: int) -> bytes:
        return bytes(
            imagecodecs.jpegxl_encode(np.ascontiguousarray(pixels), level=setting, effort=effort)
        )

    def decode(data: bytes) -> np.ndarray:
        decoded = np.asarray(imagecodecs.jpegxl_decode(data))
        if decoded.dtype != np.uint8 or decoded.ndim != 3 or decoded.shape[2] != 3:
            raise ValueError(f"JPEG XL decoded to {decoded.dtype} {decoded.shape}, not 8-bit RGB")
        return decoded

    return ClassicCodec(
        "jxl",
        "JPEG XL",
        tuple(range(10, 96, 5)),
        encode,
        decode,
        f"imagecodecs {imagecodecs.__version__} {imagecodecs.jpegxl_version()} effort {effort}",
    )


_FACTORIES: dict[str, Callable[[], ClassicCodec]] = {
    "jpeg": jpeg_codec,
    "webp": webp_codec,
    "avif": avif_codec,
    "jxl": jxl_codec,
}
ANCHOR_NAMES: tuple[str, ...] = tuple(_FACTORIES)
_built: dict[str, ClassicCodec] = {}


def anchor_codec(name: str) -> ClassicCodec:
    """The anchor codec called `name` with its default settings (built once per process)."""
    if name not in _FACTORIES:
        raise ValueError(f"unknown anchor codec {name!r}; expected one of {ANCHOR_NAMES}")
    if name not in _built:
        _built[name] = _FACTORIES[name]()
    return _built[name]
