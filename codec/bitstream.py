"""Container format of a compressed image.

    magic b"CNAS" | version uint8 | model_id 16 bytes | height uint32 LE | width uint32 LE
    | rate uint16 LE | then, per section: varint length | bytes

Two sections: the ANS stream holding all latents (z then y), and the escape stream (varints of
how far escaped symbols lie past their table's support).

Version 2 (this one) added `rate`, the variable-rate position in 1/256 steps (0 for a
fixed-rate model), and codes y's tables by the integer scale decoder's indexes; version 1
streams are refused, never misread.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from codec.entropy.varint import MAX_VARINT_BYTES, encode_varints
from codec.errors import BitstreamError

MAGIC = b"CNAS"
FORMAT_VERSION = 2
MODEL_ID_BYTES = 16
SECTION_COUNT = 2
_FIXED = struct.Struct("<4sB16sIIH")
HEADER_BYTES = _FIXED.size
# A corrupt header must not make the decoder allocate terabytes; 2**28 px is ~270 MP.
MAX_PIXELS = 1 << 28


@dataclass(frozen=True)
class BitstreamHeader:
    model_id: bytes
    height: int
    width: int
    version: int = FORMAT_VERSION
    rate: int = 0  # variable-rate position in 1/256 steps (codec.variable_rate.rate_code)


def short_id(model_id: bytes) -> str:
    return model_id.hex()[:8] + "…"


def pack_bitstream(header: BitstreamHeader, sections: Sequence[bytes]) -> bytes:
    if len(header.model_id) != MODEL_ID_BYTES:
        raise ValueError(f"model_id must be {MODEL_ID_BYTES} bytes, got {header.model_id!r}")
    if not (1 <= header.height < 2**32 and 1 <= header.width < 2**32):
        raise ValueError(f"image size {header.height}x{header.width} is not codable")
    if not 0 <= header.rate < 2**16:
        raise ValueError(f"rate code must fit uint16, got rate={header.rate!r}")
    parts = [
        _FIXED.pack(
            MAGIC, header.version, header.model_id, header.height, header.width, header.rate
        )
    ]
    for section in sections:
        parts += [encode_varints(np.array([len(section)])), bytes(section)]
    return b"".join(parts)


def read_header(data: bytes) -> BitstreamHeader:
    """Parse and check the fixed header (magic, version, sizes), whichever model made it."""
    # Check the magic on whatever prefix exists, so a short foreign file is not "truncated".
    prefix = bytes(data[: len(MAGIC)])
    if prefix != MAGIC[: len(prefix)]:
        raise BitstreamError(
            f"not a codecnas bitstream: starts with {prefix!r}, expected {MAGIC!r}"
        )
    if len(data) < HEADER_BYTES:
        raise BitstreamError(
            f"bitstream is truncated: {len(data)} bytes, the header alone needs {HEADER_BYTES}"
        )
    _, version, model_id, height, width, rate = _FIXED.unpack_from(data)
    if version != FORMAT_VERSION:
        raise BitstreamError(
            f"unknown bitstream format version {version}; this decoder reads version "
            f"{FORMAT_VERSION}"
        )
    if height < 1 or width < 1 or height * width > MAX_PIXELS:
        raise BitstreamError(f"bitstream header gives an impossible image size {height}x{width}")
    return BitstreamHeader(model_id, height, width, version, rate)


def unpack_bitstream(data: bytes, expected_model_id: bytes) -> tuple[BitstreamHeader, list[bytes]]:
    """Header and the SECTION_COUNT sections; the data must end exactly after the last one."""
    header = read_header(data)
    if header.model_id != expected_model_id:
        raise BitstreamError(
            f"bitstream was made by model {short_id(header.model_id)} but this is model "
            f"{short_id(expected_model_id)}"
        )
    offset = HEADER_BYTES
    sections = []
    for index in range(SECTION_COUNT):
        length, offset = _read_length(data, offset, index)
        if offset + length > len(data):
            raise BitstreamError(
                f"bitstream is truncated: section {index} needs {length} bytes at offset "
                f"{offset}, only {len(data) - offset} remain"
            )
        sections.append(bytes(data[offset : offset + length]))
        offset += length
    if offset != len(data):
        raise BitstreamError(
            f"bitstream has {len(data) - offset} bytes of trailing garbage after its last section"
        )
    return header, sections


def _read_length(data: bytes, offset: int, index: int) -> tuple[int, int]:
    value = 0
    for k in range(MAX_VARINT_BYTES):
        if offset + k >= len(data):
            raise BitstreamError(
                f"bitstream is truncated: it ends inside the length of section {index}"
            )
        byte = data[offset + k]
        value |= (byte & 0x7F) << (7 * k)
        if not byte & 0x80:
            return value, offset + k + 1
    raise BitstreamError(f"length of section {index} is longer than {MAX_VARINT_BYTES} bytes")
