"""Learned image codec: architecture, transforms, entropy models, bitstream.

codec/images.py, training.py, metrics.py, anchors.py and evaluation.py build on this core.
"""

from codec.architecture import CodecArchitecture, StageSpec
from codec.bitstream import BitstreamHeader, read_header
from codec.errors import BitstreamError, CodecError, CodingNotPreparedError
from codec.macs import MacsPerPixel, macs_per_pixel
from codec.model import CodecForward, LearnedCodec, build_codec

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
