"""Container format of a tiled image: a header, an index of tiles, then each tile's bitstream.

    fixed header  magic b"CNAT" | version uint8 | model_id 16 bytes | height uint32
                  | width uint32 | tile uint32 | margin uint32 | tile_count uint32
                  | crc32 of the fields before it (uint32)
    index         tile_count x (payload length uint32, crc32 of the payload uint32)
                  | crc32 of the index (uint32)
    payloads      the tiles' own bitstreams (LearnedCodec.compress), row-major, back to back

All integers are little-endian. The index has a fixed width, so a writer with a seekable output
reserves it, streams the tiles out as they are coded and fills it in at the end. The checksums
make a flipped bit an error instead of a wrong image; each tile has its own, so one tile is read
and checked without the others.
"""

from __future__ import annotations

import io
import struct
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from codec.errors import BitstreamError
from codec.tiling import TileGrid, check_tile_parameters

TILED_MAGIC = b"CNAT"  # the per-tile streams start with b"CNAS"
TILED_FORMAT_VERSION = 1
MODEL_ID_BYTES = 16
# A corrupt header must not make the decoder allocate terabytes; 2**28 px is ~270 MP.
MAX_PIXELS = 1 << 28
_FIELDS = struct.Struct("<4sB16sIIIII")
_CRC = struct.Struct("<I")
_ENTRY = struct.Struct("<II")
FIXED_HEADER_BYTES = _FIELDS.size + _CRC.size

Source = bytes | bytearray | memoryview | BinaryIO


@dataclass(frozen=True)
class TiledHeader:
    model_id: bytes
    height: int
    width: int
    tile: int
    margin: int
    version: int = TILED_FORMAT_VERSION

    @property
    def grid(self) -> TileGrid:
        return TileGrid(self.height, self.width, self.tile, self.margin)

    def index_bytes(self) -> int:
        return self.grid.count * _ENTRY.size + _CRC.size

    def pack(self) -> bytes:
        if len(self.model_id) != MODEL_ID_BYTES:
            raise ValueError(f"model_id must be {MODEL_ID_BYTES} bytes, got {self.model_id!r}")
        fields = _FIELDS.pack(
            TILED_MAGIC,
            self.version,
            self.model_id,
            self.height,
            self.width,
            self.tile,
            self.margin,
            self.grid.count,
        )
        return fields + _CRC.pack(zlib.crc32(fields))


@dataclass(frozen=True)
class TileEntry:
    offset: int  # of the payload, from the start of the container
    length: int
    crc32: int


def _id(model_id: bytes) -> str:
    return model_id.hex()[:8] + "…"


def parse_header(data: bytes, expected_model_id: bytes) -> TiledHeader:
    """Check and decode the fixed header (the first FIXED_HEADER_BYTES bytes)."""
    # Check the magic on whatever prefix exists, so a short foreign file is not "truncated".
    prefix = bytes(data[: len(TILED_MAGIC)])
    if prefix != TILED_MAGIC[: len(prefix)]:
        raise BitstreamError(
            f"not a tiled codecnas file: starts with {prefix!r}, expected {TILED_MAGIC!r}"
        )
    if len(data) < FIXED_HEADER_BYTES:
        raise BitstreamError(
            f"tiled file is truncated: {len(data)} bytes, its header alone needs "
            f"{FIXED_HEADER_BYTES}"
        )
    _, version, model_id, height, width, tile, margin, count = _FIELDS.unpack_from(data)
    (stored_crc,) = _CRC.unpack_from(data, _FIELDS.size)
    if version != TILED_FORMAT_VERSION:
        raise BitstreamError(
            f"unknown tiled format version {version}; this decoder reads version "
            f"{TILED_FORMAT_VERSION}"
        )
    if zlib.crc32(bytes(data[: _FIELDS.size])) != stored_crc:
        raise BitstreamError("tiled file header is corrupt: its checksum does not match")
    if model_id != expected_model_id:
        raise BitstreamError(
            f"tiled file was made by model {_id(model_id)} but this is model "
            f"{_id(expected_model_id)}"
        )
    if height < 1 or width < 1 or height * width > MAX_PIXELS:
        raise BitstreamError(f"tiled file header gives an impossible image size {height}x{width}")
    try:
        check_tile_parameters(tile, margin)
    except ValueError as error:
        raise BitstreamError(f"tiled file header has bad tiling: {error}") from error
    header = TiledHeader(model_id, height, width, tile, margin, version)
    if header.grid.count != count:
        raise BitstreamError(
            f"tiled file header says {count} tiles, but a {height}x{width} image in tiles of "
            f"{tile} with margin {margin} has {header.grid.count}"
        )
    return header


def parse_index(data: bytes, header: TiledHeader) -> list[TileEntry]:
    """Decode the index (header.index_bytes() bytes that follow the fixed header)."""
    body = bytes(data[: -_CRC.size])
    (stored_crc,) = _CRC.unpack_from(data, len(body))
    if zlib.crc32(body) != stored_crc:
        raise BitstreamError("tiled file index is corrupt: its checksum does not match")
    entries = []
    offset = FIXED_HEADER_BYTES + header.index_bytes()
    for length, crc in _ENTRY.iter_unpack(body):
        entries.append(TileEntry(offset, length, crc))
        offset += length
    return entries


class TiledReader:
    """Random access to the tiles of a container held in memory or in a binary file.

    The whole layout (header, index, total length) is checked on opening, so a truncated or
    padded file fails before any tile is decoded. A file that cannot seek is read into memory
    (it holds compressed bytes only).
    """

    def __init__(self, source: Source, expected_model_id: bytes) -> None:
        if isinstance(source, bytes | bytearray | memoryview):
            self._file: BinaryIO = io.BytesIO(source)
        elif not source.seekable():
            self._file = io.BytesIO(source.read())
        else:
            self._file = source
        self._lock = threading.Lock()  # decoder threads read tiles concurrently
        self._start = self._file.tell()
        # Read without a length check first: parse_header tells a foreign file from a short one.
        self._file.seek(self._start)
        self.header = parse_header(self._file.read(FIXED_HEADER_BYTES), expected_model_id)
        size = self._file.seek(0, io.SEEK_END) - self._start
        index_end = FIXED_HEADER_BYTES + self.header.index_bytes()
        if size < index_end:
            raise BitstreamError(
                f"tiled file is truncated: {size} bytes, its header and index need {index_end}"
            )
        self.entries = parse_index(
            self._read_at(FIXED_HEADER_BYTES, self.header.index_bytes()), self.header
        )
        end = self.entries[-1].offset + self.entries[-1].length
        if size < end:
            raise BitstreamError(
                f"tiled file is truncated: {size} bytes, its {len(self.entries)} tiles end at "
                f"byte {end}"
            )
        if size > end:
            raise BitstreamError(
                f"tiled file has {size - end} bytes of trailing garbage after its last tile"
            )

    def _read_at(self, offset: int, length: int) -> bytes:
        with self._lock:
            self._file.seek(self._start + offset)
            data = self._file.read(length)
        if len(data) != length:
            raise BitstreamError(
                f"tiled file is truncated: {length} bytes needed at offset {offset}, "
                f"{len(data)} read"
            )
        return data

    def payload(self, index: int) -> bytes:
        """The bitstream of tile `index`, checked against its checksum."""
        if not 0 <= index < len(self.entries):
            raise IndexError(f"tile index {index} out of range for {len(self.entries)} tiles")
        entry = self.entries[index]
        data = self._read_at(entry.offset, entry.length)
        if zlib.crc32(data) != entry.crc32:
            raise BitstreamError(f"tile {index} is corrupt: its checksum does not match")
        return data

    def payloads(self) -> Iterator[bytes]:
        return (self.payload(index) for index in range(len(self.entries)))


class TiledWriter:
    """Writes a container to `out` as the tiles arrive, in index order.

    A seekable output gets the header and a reserved index at once and each tile as soon as it
    is added; finish() goes back to fill the index in. Otherwise the compressed tiles are kept
    until finish() (the index must precede them).
    """

    def __init__(self, out: BinaryIO, header: TiledHeader) -> None:
        self._out = out
        self._header = header
        self._fixed = header.pack()
        self._entries: list[tuple[int, int]] = []
        self._held: list[bytes] | None = None
        self._written = 0
        if out.seekable():
            self._index_at = out.tell() + len(self._fixed)
            self._write(self._fixed + b"\0" * header.index_bytes())
        else:
            self._held = []

    def _write(self, data: bytes) -> None:
        self._out.write(data)
        self._written += len(data)

    def add(self, payload: bytes) -> None:
        if len(self._entries) >= self._header.grid.count:
            raise ValueError(f"container holds {self._header.grid.count} tiles; got one more")
        if len(payload) >= 1 << 32:
            raise ValueError(f"tile {len(self._entries)} has {len(payload)} bytes, over 4 GiB")
        self._entries.append((len(payload), zlib.crc32(payload)))
        if self._held is None:
            self._write(payload)
        else:
            self._held.append(payload)

    def _index(self) -> bytes:
        body = b"".join(_ENTRY.pack(length, crc) for length, crc in self._entries)
        return body + _CRC.pack(zlib.crc32(body))

    def finish(self) -> int:
        """Write the index (and any held tiles); returns the container's length in bytes."""
        if len(self._entries) != self._header.grid.count:
            raise ValueError(
                f"container needs {self._header.grid.count} tiles, got {len(self._entries)}"
            )
        if self._held is None:
            end = self._out.tell()
            self._out.seek(self._index_at)
            self._out.write(self._index())
            self._out.seek(end)
        else:
            self._write(self._fixed + self._index())
            for payload in self._held:
                self._write(payload)
            self._held = []
        self._out.flush()
        return self._written
