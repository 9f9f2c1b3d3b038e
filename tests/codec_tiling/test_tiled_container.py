"""The tiled container: its layout, progressive writing, and a clear error for every defect."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest

from codec import BitstreamError, LearnedCodec
from codec.tiled_bitstream import (
    FIXED_HEADER_BYTES,
    TILED_MAGIC,
    TiledHeader,
    TiledReader,
    TiledWriter,
)
from codec.tiled_codec import TiledCodec
from tests.codec_tiling.conftest import photo


class OneWayStream(io.RawIOBase):
    """A pipe-like binary stream: no seeking, as stdout or a socket."""

    def __init__(self, data: bytes = b"") -> None:
        self._in = io.BytesIO(data)
        self.written = bytearray()

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        return self._in.readinto(buffer)

    def write(self, data) -> int:  # type: ignore[no-untyped-def]
        self.written += data
        return len(data)


class RecordingFile(io.BytesIO):
    """A seekable file that records where each write landed."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[tuple[int, int]] = []

    def write(self, data) -> int:  # type: ignore[no-untyped-def]
        self.writes.append((self.tell(), len(data)))
        return super().write(data)


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    return photo(100, 150)  # 2 x 3 tiles of 64 with margin 4


@pytest.fixture(scope="module")
def container(model: LearnedCodec, image: np.ndarray) -> bytes:
    return TiledCodec(model, tile=64, margin=4, workers=1).encode(image)


def test_layout_header_index_then_tiles(model: LearnedCodec, container: bytes) -> None:
    reader = TiledReader(container, model.model_id)
    assert container[:4] == TILED_MAGIC
    assert reader.header == TiledHeader(model.model_id, 100, 150, 64, 4)
    assert len(reader.entries) == 6
    assert reader.entries[0].offset == FIXED_HEADER_BYTES + 6 * 8 + 4
    assert reader.entries[-1].offset + reader.entries[-1].length == len(container)
    for index in range(6):
        assert reader.payload(index)[:4] == b"CNAS"  # each tile is the model's own bitstream


def test_tiles_are_written_as_they_come_and_the_index_last(
    model: LearnedCodec, image: np.ndarray, container: bytes
) -> None:
    out = RecordingFile()
    written = TiledCodec(model, tile=64, margin=4, workers=2).encode_to(image, out)
    assert out.getvalue() == container and written == len(container)
    positions = [position for position, _ in out.writes]
    # header + reserved index, six tiles in order, then the index filled in at its place
    assert len(out.writes) == 8
    assert positions[1:7] == sorted(positions[1:7]) and positions[1] > FIXED_HEADER_BYTES
    assert positions[7] == FIXED_HEADER_BYTES


def test_a_stream_that_cannot_seek_gets_the_same_bytes(
    model: LearnedCodec, image: np.ndarray, container: bytes
) -> None:
    codec = TiledCodec(model, tile=64, margin=4)
    pipe = OneWayStream()
    assert codec.encode_to(image, io.BufferedWriter(pipe)) == len(container)
    assert bytes(pipe.written) == container
    decoded = codec.decode(io.BufferedReader(OneWayStream(container)))
    assert np.array_equal(decoded, codec.decode(container))


def test_a_container_inside_a_larger_file_is_read_from_its_position(
    model: LearnedCodec, image: np.ndarray, container: bytes
) -> None:
    codec = TiledCodec(model, tile=64, margin=4)
    file = io.BytesIO()
    file.write(b"prefix")
    codec.encode_to(image, file)
    file.seek(len(b"prefix"))
    assert np.array_equal(codec.decode(file), codec.decode(container))


@pytest.mark.parametrize("cut", [0, 3, 10, FIXED_HEADER_BYTES, FIXED_HEADER_BYTES + 20, -100, -1])
def test_truncation_is_reported(model: LearnedCodec, container: bytes, cut: int) -> None:
    codec = TiledCodec(model, tile=64, margin=4)
    with pytest.raises(BitstreamError, match="truncated"):
        codec.decode(container[:cut])


def test_trailing_garbage_is_reported(model: LearnedCodec, container: bytes) -> None:
    with pytest.raises(BitstreamError, match="3 bytes of trailing garbage"):
        TiledCodec(model).decode(container + b"abc")


def test_another_models_file_is_refused(container: bytes) -> None:
    from codec import CodecArchitecture, build_codec

    other = build_codec(CodecArchitecture(8, 12, 2, "conv", "relu", True), model_id=b"x" * 16)
    other.prepare_for_coding()
    with pytest.raises(BitstreamError, match=r"made by model 74696c69… but this is model 78787878"):
        TiledCodec(other).decode(container)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(64), r"not a tiled codecnas file: starts with b'\\x89PNG'"),
        (b"CNAS" + bytes(64), "not a tiled codecnas file"),  # a single-image bitstream
        (b"", "truncated"),
    ],
)
def test_foreign_data_is_refused(model: LearnedCodec, data: bytes, message: str) -> None:
    with pytest.raises(BitstreamError, match=message):
        TiledCodec(model).decode(data)


def _with_fields(container: bytes, **changes: int) -> bytes:
    """The container with header fields changed and a valid header checksum."""
    layout = struct.Struct("<4sB16sIIIII")
    names = ["magic", "version", "model_id", "height", "width", "tile", "margin", "count"]
    values = dict(zip(names, layout.unpack_from(container), strict=True))
    values.update(changes)
    fields = layout.pack(*(values[name] for name in names))
    return fields + struct.pack("<I", zlib.crc32(fields)) + container[FIXED_HEADER_BYTES:]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"version": 9}, "unknown tiled format version 9"),
        ({"count": 7}, "header says 7 tiles, but a 100x150 image in tiles of 64 with margin 4"),
        ({"height": 0}, "impossible image size 0x150"),
        ({"height": 1 << 20, "width": 1 << 20}, "impossible image size"),
        ({"tile": 8}, "bad tiling: tile=8 leaves no core"),
        ({"height": 101}, "tile 3 decodes to .* but its place in the image is"),
    ],
)
def test_bad_headers_are_named(
    model: LearnedCodec, container: bytes, changes: dict[str, int], message: str
) -> None:
    with pytest.raises(BitstreamError, match=message):
        TiledCodec(model, tile=64, margin=4).decode(_with_fields(container, **changes))


@pytest.mark.parametrize(
    ("position", "message"),
    [
        (30, "header is corrupt"),
        (FIXED_HEADER_BYTES + 2, "index is corrupt"),
        (-20, "tile 5 is corrupt"),
    ],
)
def test_a_flipped_bit_is_an_error_not_a_wrong_image(
    model: LearnedCodec, container: bytes, position: int, message: str
) -> None:
    damaged = bytearray(container)
    damaged[position] ^= 0x10
    with pytest.raises(BitstreamError, match=message):
        TiledCodec(model, tile=64, margin=4).decode(bytes(damaged))


def test_writer_refuses_a_wrong_number_of_tiles(model: LearnedCodec) -> None:
    writer = TiledWriter(io.BytesIO(), TiledHeader(model.model_id, 10, 10, 64, 4))
    with pytest.raises(ValueError, match="needs 1 tiles, got 0"):
        writer.finish()
    writer.add(b"tile")
    with pytest.raises(ValueError, match="holds 1 tiles; got one more"):
        writer.add(b"tile")
