"""Learned image codec: architecture, transforms, entropy models, bitstream.

codec/images.py, training.py, metrics.py, anchors.py and evaluation.py build on this core.
"""

from codec.architecture import CodecArchitecture
from codec.bitstream import BitstreamHeader, read_header
from codec.errors import BitstreamError, CodecError, CodingNotPreparedError
from codec.model import CodecForward, LearnedCodec, build_codec

__all__ = [
    "BitstreamError",
    "BitstreamHeader",
    "CodecArchitecture",
    "CodecError",
    "CodecForward",
    "CodingNotPreparedError",
    "LearnedCodec",
    "build_codec",
    "read_header",
]
