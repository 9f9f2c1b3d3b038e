"""TiledCodec: any size round-trips, tiles decode alone, output is deterministic and ordered."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from codec import BitstreamError, LearnedCodec
from codec.images import to_pixels, to_tensor
from codec.tiled_bitstream import TiledReader, TiledWriter
from codec.tiled_codec import TiledCodec
from codec.tiling import TileGrid, TilePlacement, crop_margin
from tests.codec_tiling.conftest import photo


def _reference_tile(model: LearnedCodec, image: np.ndarray, placement: TilePlacement) -> np.ndarray:
    """The core of one tile coded on its own with the model, outside any tiling code."""
    coded = to_pixels(model.decompress(model.compress(to_tensor(image[placement.coded.slices]))))
    return crop_margin(coded, placement)


@pytest.mark.parametrize(("height", "width"), [(1, 1), (7, 513), (600, 1100)])
def test_odd_sizes_round_trip_at_pico_tiles(model: LearnedCodec, height: int, width: int) -> None:
    image = photo(height, width)
    codec = TiledCodec(model)  # tile 512, margin 4
    decoded = codec.decode(codec.encode(image))
    assert decoded.shape == (height, width, 3) and decoded.dtype == np.uint8
    # as good as coding the whole image at once (the model itself is barely trained)
    whole = to_pixels(model.decompress(model.compress(to_tensor(image))))
    tiled_error = np.abs(decoded.astype(np.float64) - image).mean()
    whole_error = np.abs(whole.astype(np.float64) - image).mean()
    assert tiled_error <= 1.1 * whole_error, (tiled_error, whole_error)


def test_every_tile_lands_in_its_place(model: LearnedCodec) -> None:
    image = photo(150, 200)
    decoded = TiledCodec(model, tile=64, margin=4, workers=2).decode(
        TiledCodec(model, tile=64, margin=4, workers=2).encode(image)
    )
    for placement in TileGrid(150, 200, 64, 4):
        reference = _reference_tile(model, image, placement)
        assert np.array_equal(decoded[placement.core.slices], reference), placement


def test_tiles_decode_alone(model: LearnedCodec) -> None:
    image = photo(150, 200)
    codec = TiledCodec(model, tile=64, margin=4, workers=2)
    container = codec.encode(image)
    full = codec.decode(container)
    reader = TiledReader(container, model.model_id)
    for index in range(len(reader.entries)):
        # wipe every other tile's bytes: the one tile must still decode, to the same pixels
        wiped = bytearray(container)
        for other in reader.entries:
            if other is not reader.entries[index]:
                wiped[other.offset : other.offset + other.length] = bytes(other.length)
        top, left, pixels = codec.decode_tile(bytes(wiped), index)
        height, width = pixels.shape[:2]
        assert np.array_equal(full[top : top + height, left : left + width], pixels)
    with pytest.raises(BitstreamError, match="tile 0 is corrupt"):
        codec.decode(bytes(wiped))


def test_a_tiles_bitstream_is_the_models_own(model: LearnedCodec) -> None:
    image = photo(150, 200)
    codec = TiledCodec(model, tile=64, margin=4)
    container = codec.encode(image)
    placement = TileGrid(150, 200, 64, 4).placement(5)  # an interior tile
    alone = to_pixels(model.decompress(codec.tile_bitstream(container, 5)))
    assert alone.shape[:2] == (placement.coded.height, placement.coded.width) == (64, 64)
    assert np.array_equal(crop_margin(alone, placement), _reference_tile(model, image, placement))


def test_encoding_is_deterministic_and_independent_of_workers(model: LearnedCodec) -> None:
    image = photo(200, 300)
    serial = TiledCodec(model, tile=64, margin=4, workers=1).encode(image)
    pooled = TiledCodec(model, tile=64, margin=4, workers=2, threads_per_worker=1)
    assert pooled.encode(image) == serial
    assert pooled.encode(image) == serial
    assert TiledCodec(model, tile=64, margin=4, workers=2).decode(serial).tobytes() == (
        TiledCodec(model, tile=64, margin=4, workers=1).decode(serial).tobytes()
    )


def test_a_tensor_input_codes_like_the_array(model: LearnedCodec) -> None:
    image = photo(70, 90)
    codec = TiledCodec(model, tile=64, margin=4)
    assert codec.encode(to_tensor(image)) == codec.encode(image)
    assert codec.encode(to_tensor(image)[0]) == codec.encode(image)


def test_callers_torch_threads_are_kept(model: LearnedCodec) -> None:
    before = torch.get_num_threads()
    TiledCodec(model, tile=64, margin=4, workers=2, threads_per_worker=2).encode(photo(70, 90))
    assert torch.get_num_threads() == before


def test_file_and_memmap_decode(model: LearnedCodec, tmp_path: Path) -> None:
    image = photo(130, 170)
    codec = TiledCodec(model, tile=64, margin=4)
    path = tmp_path / "image.cnat"
    with path.open("wb") as file:
        written = codec.encode_to(image, file)
    assert written == path.stat().st_size
    in_memory = codec.decode(path.read_bytes())
    out = np.lib.format.open_memmap(tmp_path / "out.npy", mode="w+", dtype=np.uint8,
                                    shape=(130, 170, 3))  # fmt: skip
    with path.open("rb") as file:
        assert codec.decode(file, out=out) is out
    assert np.array_equal(np.asarray(out), in_memory)
    with pytest.raises(
        ValueError, match=r"out must be uint8 \(130, 170, 3\), got uint8 \(130, 170\)"
    ):
        codec.decode(path.read_bytes(), out=np.zeros((130, 170), np.uint8))


def test_progressive_decode_yields_tiles_in_order(model: LearnedCodec) -> None:
    codec = TiledCodec(model, tile=64, margin=4)
    container = codec.encode(photo(100, 150))
    tiles = list(codec.decode_tiles(container))
    grid = TileGrid(100, 150, 64, 4)
    assert [(t.top, t.left) for t in tiles] == [(p.core.top, p.core.left) for p in grid]
    assert [t.pixels.shape[:2] for t in tiles] == [(p.core.height, p.core.width) for p in grid]


def test_no_more_than_in_flight_tiles_are_pending(model: LearnedCodec) -> None:
    codec = TiledCodec(model, workers=2, in_flight=3)
    started: list[int] = []
    lock = threading.Lock()

    def work(item: int) -> int:
        with lock:
            started.append(item)
        time.sleep(0.002)
        return item

    for consumed in codec._ordered_map(work, range(12)):
        with lock:
            assert max(started) <= consumed + 3  # submitted but not consumed: at most 3
    assert sorted(started) == list(range(12))


def test_a_worker_error_reaches_the_caller(model: LearnedCodec) -> None:
    container = TiledCodec(model, tile=64, margin=4).encode(photo(100, 150))
    reader = TiledReader(container, model.model_id)
    payloads = list(reader.payloads())
    payloads[4] = payloads[4][:-1]  # checksums made anew: only the model's decoder can tell
    rebuilt = io.BytesIO()
    writer = TiledWriter(rebuilt, reader.header)
    for payload in payloads:
        writer.add(payload)
    writer.finish()
    with pytest.raises(BitstreamError, match="^tile 4: "):
        TiledCodec(model, tile=64, margin=4, workers=2).decode(rebuilt.getvalue())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"workers": 0}, "workers must be >= 1, got workers=0"),
        ({"workers": 2, "in_flight": 1}, "in_flight=1"),
        ({"threads_per_worker": 0}, "threads_per_worker must be >= 1, got 0"),
        ({"tile": 8, "margin": 4}, "tile=8 leaves no core"),
    ],
)
def test_bad_settings_are_named(model: LearnedCodec, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TiledCodec(model, **kwargs)


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.zeros((4, 4), np.uint8), r"uint8 \(H,W,3\), got uint8 \(4, 4\)"),
        (np.zeros((4, 4, 3), np.float32), "got float32"),
        (np.zeros((0, 4, 3), np.uint8), "empty: 0x4"),
        (torch.zeros(1, 1, 4, 4), r"float \(1,3,H,W\) or \(3,H,W\)"),
        (torch.zeros(1, 3, 4, 4, dtype=torch.uint8), "torch.uint8"),
    ],
)
def test_bad_images_are_named(model: LearnedCodec, image: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TiledCodec(model).encode(image)  # type: ignore[arg-type]
