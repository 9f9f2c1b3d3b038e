"""Learned image codec: architecture, transforms, entropy models, bitstream.

codec/images.py, training.py, metrics.py, anchors.py and evaluation.py build on this core.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from codec.architecture import CodecArchitecture, StageSpec
    from codec.bitstream import BitstreamHeader, read_header
    from codec.errors import BitstreamError, CodecError, CodingNotPreparedError
    from codec.macs import MacsPerPixel, macs_per_pixel
    from codec.model import CodecForward, LearnedCodec, build_codec

# Where each name lives. Loaded on first use: importing one light submodule (codec.errors,
# codec.loss_weights) must not load torch and every model file, which made each CLI command
# start in seconds.
_HOMES = {
    "CodecArchitecture": "codec.architecture",
    "StageSpec": "codec.architecture",
    "BitstreamHeader": "codec.bitstream",
    "read_header": "codec.bitstream",
    "BitstreamError": "codec.errors",
    "CodecError": "codec.errors",
    "CodingNotPreparedError": "codec.errors",
    "MacsPerPixel": "codec.macs",
    "macs_per_pixel": "codec.macs",
    "CodecForward": "codec.model",
    "LearnedCodec": "codec.model",
    "build_codec": "codec.model",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'codec' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)


__all__ = [
    "BitstreamError",
    "BitstreamHeader",
    "CodecArchitecture",
    "CodecError",
    "CodecForward",
    "CodingNotPreparedError",
    "LearnedCodec",
    "MacsPerPixel",
    "StageSpec",
    "build_codec",
    "macs_per_pixel",
    "read_header",
]
