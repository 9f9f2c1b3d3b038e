"""Image folders with broken files: usable images load, the rest are named in ONE warning, and a
folder with nothing usable is a clear ImageSourceError listing every file."""

from __future__ import annotations

import struct
import tracemalloc
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from codec.images import ImageSourceError, load_images


def _huge_png_header(path: Path, width: int = 12000, height: int = 9000) -> None:
    """A PNG whose header claims width x height (108 MP) but holds almost no data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )  # fmt: skip


def _bad_files(folder: Path) -> list[str]:
    rng = np.random.default_rng(0)
    photo = Image.fromarray(rng.integers(0, 256, (24, 32, 3), dtype=np.uint8))
    photo.save(folder / "source.jpg", quality=90)
    jpeg = (folder / "source.jpg").read_bytes()
    (folder / "source.jpg").unlink()
    (folder / "truncated.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    (folder / "corrupt.png").write_bytes(rng.integers(0, 256, 500, dtype=np.uint8).tobytes())
    (folder / "zero.png").write_bytes(b"")
    (folder / "notes.txt").write_text("not an image")
    _huge_png_header(folder / "huge.png")
    return ["corrupt.png", "huge.png", "notes.txt", "truncated.jpg", "zero.png"]


def test_bad_files_are_skipped_with_one_warning_naming_them(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)).save(tmp_path / "good.png")
    Image.fromarray(rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)).convert("CMYK").save(
        tmp_path / "cmyk.jpg"
    )
    Image.fromarray(rng.integers(0, 65536, (20, 30), dtype=np.uint16)).save(tmp_path / "grey16.png")
    bad = _bad_files(tmp_path)

    tracemalloc.start()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        images = load_images(str(tmp_path))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    assert sorted(i.name for i in images) == ["cmyk", "good", "grey16"]
    assert all(i.pixels.dtype == np.uint8 and i.pixels.shape == (20, 30, 3) for i in images)
    ours = [str(w.message) for w in caught if "image folder" in str(w.message)]
    assert len(ours) == 1, [str(w.message) for w in caught]
    assert all(name in ours[0] for name in bad), ours[0]
    assert "12000x9000 is over the limit" in ours[0]
    assert peak < 50e6, f"the 108 MP header made us allocate {peak / 1e6:.0f} MB"


def test_a_folder_with_nothing_usable_is_an_error_listing_the_files(tmp_path: Path) -> None:
    bad = _bad_files(tmp_path)
    with pytest.raises(ImageSourceError, match="no usable image in folder") as caught:
        load_images(str(tmp_path))
    assert all(name in str(caught.value) for name in bad), caught.value


def test_an_empty_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ImageSourceError, match="folder is empty"):
        load_images(str(tmp_path))
