"""Image sources and random crops, on real files written to a temp folder."""

from __future__ import annotations

import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from codec.images import (
    SKIMAGE_COLOUR_SAMPLES,
    ImageSourceError,
    NamedImage,
    RandomCrops,
    image_hash,
    load_images,
    to_pixels,
    to_tensor,
)


def write_png16(path: Path, values: np.ndarray) -> None:
    """A 16-bit PNG (grey or RGB) written by hand: Pillow cannot write 16-bit RGB."""
    height, width, channels = values.shape
    colour_type = {1: 0, 3: 2}[channels]
    raw = b"".join(b"\x00" + values[row].astype(">u2").tobytes() for row in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def mixed_folder(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "a_rgb.png")
    Image.fromarray(rgb[:, :, 0]).save(tmp_path / "b_grey.png")
    rgba = np.concatenate([rgb, np.full((20, 30, 1), 7, np.uint8)], axis=2)
    Image.fromarray(rgba).save(tmp_path / "c_rgba.png")
    write_png16(tmp_path / "d_grey16.png", np.full((8, 9, 1), 257 * 200, np.uint16))
    write_png16(tmp_path / "e_rgb16.png", np.full((8, 9, 3), 257 * 100, np.uint16))
    (tmp_path / "f_notes.txt").write_text("not an image")
    good = (tmp_path / "a_rgb.png").read_bytes()
    (tmp_path / "g_truncated.png").write_bytes(good[: len(good) // 2])
    (tmp_path / "h_empty.png").write_bytes(b"")
    (tmp_path / "subfolder").mkdir()
    return tmp_path


def test_folder_loads_good_images_and_names_bad_files_in_one_warning(mixed_folder: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        images = load_images(str(mixed_folder))
    assert [i.name for i in images] == ["a_rgb", "b_grey", "c_rgba", "d_grey16", "e_rgb16"]
    messages = " ".join(str(w.message) for w in caught)
    for bad in ("f_notes.txt", "g_truncated.png", "h_empty.png"):
        assert bad in messages
    assert len(caught) == 1  # one warning naming them all, not one per file
    rgb, grey, rgba, grey16, rgb16 = (i.pixels for i in images)
    assert all(i.pixels.dtype == np.uint8 and i.pixels.shape[2] == 3 for i in images)
    assert np.array_equal(rgba, rgb)  # alpha dropped, colours untouched
    assert np.array_equal(grey, np.repeat(rgb[:, :, :1], 3, axis=2))
    assert np.all(grey16 == 200) and np.all(rgb16 == 100)  # scaled, not clipped to 255


def test_missing_or_empty_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ImageSourceError, match="empty"):
        load_images(str(tmp_path))
    with pytest.raises(ImageSourceError, match="no_such_folder"):
        load_images(str(tmp_path / "no_such_folder"))
    (tmp_path / "junk.txt").write_text("x")
    with pytest.warns(UserWarning), pytest.raises(ImageSourceError, match="junk.txt"):
        load_images(str(tmp_path))


def test_files_sharing_a_stem_keep_distinct_names(tmp_path: Path) -> None:
    pixels = np.zeros((4, 4, 3), np.uint8)
    Image.fromarray(pixels).save(tmp_path / "x.png")
    Image.fromarray(pixels).save(tmp_path / "x.bmp")
    assert [i.name for i in load_images(str(tmp_path))] == ["x.bmp", "x.png"]


def test_skimage_source_reads_bundled_photos() -> None:
    images = load_images("skimage:coffee, ihc")
    assert [i.name for i in images] == ["coffee", "ihc"]
    assert images[0].pixels.shape == (400, 600, 3)
    assert images[1].pixels.shape == (512, 512, 3)


def test_every_listed_skimage_sample_is_bundled() -> None:
    images = load_images("skimage:" + ",".join(SKIMAGE_COLOUR_SAMPLES))
    assert len(images) == len(SKIMAGE_COLOUR_SAMPLES)


def test_unknown_skimage_name_lists_the_valid_ones() -> None:
    with pytest.raises(ImageSourceError, match="'camera'.*astronaut"):
        load_images("skimage:astronaut,camera")
    with pytest.raises(ImageSourceError, match="valid names"):
        load_images("skimage:")


def test_image_hash_depends_on_content_and_shape() -> None:
    a = np.zeros((4, 6, 3), np.uint8)
    assert image_hash(a) == image_hash(a.copy())
    assert image_hash(a) != image_hash(a.reshape(6, 4, 3))
    b = a.copy()
    b[0, 0, 0] = 1
    assert image_hash(a) != image_hash(b)
    assert len(image_hash(a)) == 64


def test_named_image_rejects_bad_pixels() -> None:
    with pytest.raises(ValueError, match="'bad'.*float"):
        NamedImage("bad", np.zeros((4, 4, 3), np.float32))


def test_tensor_round_trip_is_exact() -> None:
    pixels = np.random.default_rng(1).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    tensor = to_tensor(pixels)
    assert tensor.shape == (1, 3, 5, 7)
    assert np.array_equal(to_pixels(tensor), pixels)


def test_random_crops_shape_range_and_determinism() -> None:
    rng = np.random.default_rng(2)
    images = [
        NamedImage("big", rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)),
        NamedImage("small", rng.integers(0, 256, (10, 12, 3), dtype=np.uint8)),
    ]
    batch = RandomCrops(images, 16, seed=3).next_batch(12)
    assert batch.shape == (12, 3, 16, 16) and batch.dtype == torch.float32
    assert 0.0 <= float(batch.min()) and float(batch.max()) <= 1.0
    again = RandomCrops(images, 16, seed=3).next_batch(12)
    other = RandomCrops(images, 16, seed=4).next_batch(12)
    assert torch.equal(batch, again)
    assert not torch.equal(batch, other)


def test_crops_are_real_windows_some_flipped() -> None:
    pixels = np.random.default_rng(5).integers(0, 256, (24, 24, 3), dtype=np.uint8)
    source = torch.from_numpy(pixels).permute(2, 0, 1).float() / 255.0
    windows = {
        source[:, t : t + 8, c : c + 8].numpy().tobytes() for t in range(17) for c in range(17)
    }
    flipped = {
        source[:, t : t + 8, c : c + 8].flip(-1).numpy().tobytes()
        for t in range(17)
        for c in range(17)
    }
    batch = RandomCrops([NamedImage("p", pixels)], 8, seed=0).next_batch(40)
    kinds = [
        "plain"
        if c.numpy().tobytes() in windows
        else "flipped"
        if c.numpy().tobytes() in flipped
        else "other"
        for c in batch
    ]
    assert "other" not in kinds
    assert 5 < kinds.count("flipped") < 35


def test_small_image_is_mirror_padded() -> None:
    pixels = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    crop = RandomCrops([NamedImage("tiny", pixels)], 4, seed=0).next_batch(1)[0]
    unflipped = crop if torch.equal(crop[:, :2, :3], to_tensor(pixels)[0]) else crop.flip(-1)
    assert torch.equal(unflipped[:, :2, :3], to_tensor(pixels)[0])
    assert torch.equal(unflipped[:, 2:4, :], unflipped[:, :2, :].flip(1))  # mirrored rows
