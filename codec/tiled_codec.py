"""Tiled encoder and decoder: any image size, bounded memory, tiles coded on a thread pool.

Each tile is coded on its own by the model (`LearnedCodec.compress` / `decompress`), so a tile
decodes without the others. Tiles go through a pool of `workers` threads with at most
`in_flight` tiles submitted and not yet written; only the tiles being worked on exist as float
tensors, and the whole image's latents never exist at once. Results are consumed in tile order:
the encoder streams each tile's bytes to the output as soon as it and its predecessors are done,
the decoder writes each tile's core into the output image.

Why threads overlap here: torch releases the GIL inside its kernels, so one tile's network runs
while another thread entropy-codes. constriction holds the GIL during a call (measured by
benchmarks/tiled_12mp.py), which only delays the other thread's next kernel launch; a tile's
coding calls are short next to its network work.
"""

from __future__ import annotations

import contextlib
import io
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import BinaryIO, NamedTuple, TypeVar

import numpy as np
import torch

from codec.errors import BitstreamError
from codec.images import to_pixels, to_tensor
from codec.model import LearnedCodec
from codec.tiled_bitstream import Source, TiledHeader, TiledReader, TiledWriter
from codec.tiling import (
    DEFAULT_MARGIN,
    DEFAULT_TILE,
    Box,
    TilePlacement,
    check_tile_parameters,
    crop_margin,
)

Item = TypeVar("Item")
Result = TypeVar("Result")
ImageInput = np.ndarray | torch.Tensor


class DecodedTile(NamedTuple):
    """A decoded tile's core (margin cropped) and where it lies in the image."""

    top: int
    left: int
    pixels: np.ndarray  # uint8 (h, w, 3)


class _ImageRegions:
    """Float (1,3,h,w) crops of the caller's image, made one tile at a time."""

    def __init__(self, image: ImageInput) -> None:
        if isinstance(image, torch.Tensor):
            tensor = image[None] if image.ndim == 3 else image
            if tensor.ndim != 4 or tensor.shape[:2] != (1, 3) or not tensor.is_floating_point():
                raise ValueError(
                    f"a tensor image must be float (1,3,H,W) or (3,H,W) in [0,1], got "
                    f"{tensor.dtype} {tuple(image.shape)}"
                )
            self._tensor: torch.Tensor | None = tensor.detach()
            self.height, self.width = int(tensor.shape[2]), int(tensor.shape[3])
        else:
            array = np.asarray(image)
            if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
                raise ValueError(
                    f"an array image must be uint8 (H,W,3), got {array.dtype} {array.shape}"
                )
            self._tensor = None
            self._array = array
            self.height, self.width = int(array.shape[0]), int(array.shape[1])
        if self.height < 1 or self.width < 1:
            raise ValueError(f"image is empty: {self.height}x{self.width}")

    def crop(self, box: Box) -> torch.Tensor:
        rows, columns = box.slices
        if self._tensor is not None:
            return self._tensor[:, :, rows, columns].float()
        return to_tensor(self._array[rows, columns])


class TiledCodec:
    """Codes images of any size tile by tile with `model` (prepared for coding).

    tile, margin: tile side and context margin in pixels (PICO: 512 and 4; a tile that is a
    multiple of model.size_multiple wastes no padding). workers: threads coding tiles; 1 codes
    in the calling thread. in_flight: tiles submitted but not yet consumed (default
    2 * workers). threads_per_worker: torch threads of each worker thread (default: the caller's
    count shared out, at least 1); set per worker thread, the caller's setting is unchanged.
    rate: the operating point of a variable-rate model (LearnedCodec.compress's `rate`); each
    tile's bitstream records it, so decoding needs no setting.
    """

    def __init__(
        self,
        model: LearnedCodec,
        tile: int = DEFAULT_TILE,
        margin: int = DEFAULT_MARGIN,
        workers: int = 2,
        in_flight: int | None = None,
        threads_per_worker: int | None = None,
        rate: float | None = None,
    ) -> None:
        check_tile_parameters(tile, margin)
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got workers={workers}")
        self.in_flight = 2 * workers if in_flight is None else in_flight
        if self.in_flight < workers:
            raise ValueError(
                f"in_flight must be >= workers ({workers}) to keep them busy, got "
                f"in_flight={in_flight}"
            )
        if threads_per_worker is not None and threads_per_worker < 1:
            raise ValueError(f"threads_per_worker must be >= 1, got {threads_per_worker}")
        self.model = model
        self.tile = tile
        self.margin = margin
        self.workers = workers
        self.threads_per_worker = threads_per_worker
        self.rate = rate

    @classmethod
    def for_model(
        cls, model: LearnedCodec, workers: int = 2, rate: float | None = None
    ) -> TiledCodec:
        """A tiled codec with the tile size and margin the model's architecture names."""
        architecture = model.architecture
        return cls(
            model, architecture.tile_size, architecture.tile_margin, workers=workers, rate=rate
        )

    # ---- encoding ------------------------------------------------------------------------

    def encode(self, image: ImageInput) -> bytes:
        """uint8 (H,W,3) array or float tensor (1,3,H,W) in [0,1] -> tiled container bytes."""
        buffer = io.BytesIO()
        self.encode_to(image, buffer)
        return buffer.getvalue()

    def encode_to(self, image: ImageInput, out: BinaryIO) -> int:
        """Stream the container to a binary file as tiles finish; returns bytes written."""
        regions = _ImageRegions(image)
        header = TiledHeader(
            self.model.model_id, regions.height, regions.width, self.tile, self.margin
        )
        writer = TiledWriter(out, header)

        def encode_tile(placement: TilePlacement) -> bytes:
            return self.model.compress(regions.crop(placement.coded), rate=self.rate)

        with contextlib.closing(self._ordered_map(encode_tile, header.grid)) as payloads:
            for payload in payloads:
                writer.add(payload)
        return writer.finish()

    # ---- decoding ------------------------------------------------------------------------

    def decode(self, data: Source, out: np.ndarray | None = None) -> np.ndarray:
        """Container (bytes or binary file) -> uint8 (H,W,3); written into `out` if given
        (e.g. a np.memmap, to keep even the decoded image out of memory)."""
        reader = TiledReader(data, self.model.model_id)
        shape = (reader.header.height, reader.header.width, 3)
        if out is None:
            out = np.empty(shape, dtype=np.uint8)
        elif out.shape != shape or out.dtype != np.uint8:
            raise ValueError(f"out must be uint8 {shape}, got {out.dtype} {out.shape}")
        with contextlib.closing(self._decode_all(reader)) as tiles:
            for tile in tiles:
                height, width = tile.pixels.shape[:2]
                out[tile.top : tile.top + height, tile.left : tile.left + width] = tile.pixels
        return out

    def decode_tiles(self, data: Source) -> Iterator[DecodedTile]:
        """The decoded tiles in row-major order, as they become ready (progressive output)."""
        return self._decode_all(TiledReader(data, self.model.model_id))

    def decode_tile(self, data: Source, index: int) -> DecodedTile:
        """Decode tile `index` alone: reads and checks only the header, index and that tile."""
        reader = TiledReader(data, self.model.model_id)
        return self._decode_one(reader.header.grid.placement(index), reader.payload(index))

    def tile_bitstream(self, data: Source, index: int) -> bytes:
        """Tile `index`'s own bitstream, which `model.decompress` decodes by itself."""
        return TiledReader(data, self.model.model_id).payload(index)

    def _decode_all(self, reader: TiledReader) -> Generator[DecodedTile, None, None]:
        def decode_tile(index: int) -> DecodedTile:
            return self._decode_one(reader.header.grid.placement(index), reader.payload(index))

        # Each worker reads its own tile's payload (the reader serialises file access), so
        # only the tiles in flight are held in memory.
        return self._ordered_map(decode_tile, range(len(reader.entries)))

    def _decode_one(self, placement: TilePlacement, payload: bytes) -> DecodedTile:
        try:
            decoded = self.model.decompress(payload)
        except BitstreamError as error:
            raise BitstreamError(f"tile {placement.index}: {error}") from error
        coded = placement.coded
        if tuple(decoded.shape) != (1, 3, coded.height, coded.width):
            raise BitstreamError(
                f"tile {placement.index} decodes to {tuple(decoded.shape[2:])} pixels, but its "
                f"place in the image is {coded.height}x{coded.width}: the file is corrupt"
            )
        pixels = crop_margin(to_pixels(decoded), placement)
        return DecodedTile(placement.core.top, placement.core.left, pixels)

    # ---- the pipeline --------------------------------------------------------------------

    def _ordered_map(
        self, work: Callable[[Item], Result], items: Iterable[Item]
    ) -> Generator[Result, None, None]:
        """work(item) for each item, results in order, at most in_flight items pending."""
        if self.workers == 1:
            yield from map(work, items)
            return
        threads = self.threads_per_worker or max(1, torch.get_num_threads() // self.workers)
        pool = ThreadPoolExecutor(
            self.workers,
            thread_name_prefix="tiled-codec",
            initializer=torch.set_num_threads,  # per thread: the caller's count is kept
            initargs=(threads,),
        )
        pending: deque[Future[Result]] = deque()
        try:
            for item in items:
                pending.append(pool.submit(work, item))
                if len(pending) >= self.in_flight:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
