"""Vectorised unsigned LEB128 varints, used for escape values and section lengths."""

from __future__ import annotations

import numpy as np

from codec.errors import BitstreamError

# Escape values and lengths fit in 35 bits; anything longer in a stream is corruption.
MAX_VARINT_BYTES = 5
MAX_VARINT_VALUE = (1 << (7 * MAX_VARINT_BYTES)) - 1


def encode_varints(values: np.ndarray) -> bytes:
    """Concatenated varints of non-negative integers (< 2**35)."""
    v = np.asarray(values, dtype=np.int64).ravel()
    if v.size == 0:
        return b""
    if v.min() < 0 or v.max() > MAX_VARINT_VALUE:
        bad = v[(v < 0) | (v > MAX_VARINT_VALUE)][0]
        raise ValueError(f"varint value {int(bad)} outside 0..{MAX_VARINT_VALUE}")
    shifts = 7 * np.arange(MAX_VARINT_BYTES, dtype=np.int64)
    groups = (v[:, None] >> shifts[None, :]) & 0x7F
    # Number of 7-bit groups needed: 1 + index of the highest non-zero group.
    nonzero = groups != 0
    highest = MAX_VARINT_BYTES - 1 - np.argmax(nonzero[:, ::-1], axis=1)
    count = np.where(nonzero.any(axis=1), highest + 1, 1)
    k = np.arange(MAX_VARINT_BYTES)[None, :]
    continuation = (k < (count[:, None] - 1)).astype(np.int64) << 7
    keep = k < count[:, None]
    return (groups | continuation)[keep].astype(np.uint8).tobytes()


def decode_varints(data: bytes) -> np.ndarray:
    """Inverse of encode_varints; raises BitstreamError on a cut-off or overlong varint."""
    b = np.frombuffer(data, dtype=np.uint8).astype(np.int64)
    if b.size == 0:
        return np.zeros(0, dtype=np.int64)
    ends = (b & 0x80) == 0
    if not ends[-1]:
        raise BitstreamError("escape stream is truncated: its last varint has no final byte")
    value_index = np.concatenate(([0], np.cumsum(ends)[:-1]))
    starts = np.flatnonzero(np.concatenate(([True], ends[:-1])))
    position = np.arange(b.size) - starts[value_index]
    if position.max() >= MAX_VARINT_BYTES:
        raise BitstreamError(f"escape stream holds a varint longer than {MAX_VARINT_BYTES} bytes")
    out = np.zeros(int(ends.sum()), dtype=np.int64)
    np.add.at(out, value_index, (b & 0x7F) << (7 * position))
    return out
