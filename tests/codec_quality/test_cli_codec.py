"""`codecnas codec encode|decode` on real files of every kind, and the errors on bad ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from codecnas.codec_commands import app
from tests.codec_quality.cli_fixtures import write_model_dir, write_odd_images

runner = CliRunner()


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_model_dir(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_odd_images(tmp_path_factory.mktemp("images"))


def round_trip(model_dir: Path, image: Path, tmp_path: Path) -> tuple[str, np.ndarray]:
    bitstream, decoded = tmp_path / "out.cnas", tmp_path / "out.png"
    encoded = runner.invoke(app, ["encode", str(model_dir), str(image), str(bitstream)])
    assert encoded.exit_code == 0, encoded.output
    result = runner.invoke(app, ["decode", str(model_dir), str(bitstream), str(decoded)])
    assert result.exit_code == 0, result.output
    return flat(encoded.output), np.asarray(Image.open(decoded))


def flat(output: str) -> str:
    """Rich wraps long lines to the terminal width; the tests read the text unwrapped."""
    return output.replace("\n", "")


@pytest.mark.parametrize("kind", ["rgb", "odd_size", "grey", "grey16", "rgb16"])
def test_every_kind_of_image_round_trips(
    kind: str, model_dir: Path, images: dict[str, Path], tmp_path: Path
) -> None:
    output, decoded = round_trip(model_dir, images[kind], tmp_path)
    with Image.open(images[kind]) as original:
        width, height = original.size
    assert decoded.shape == (height, width, 3) and decoded.dtype == np.uint8
    size = (tmp_path / "out.cnas").stat().st_size
    assert f"{size} bytes" in output and f"{size * 8 / (width * height):.4f} bpp" in output
    assert "warning" not in output


def test_alpha_is_dropped_with_a_warning(
    model_dir: Path, images: dict[str, Path], tmp_path: Path
) -> None:
    output, decoded = round_trip(model_dir, images["rgba"], tmp_path)
    assert "rgba.png: alpha channel dropped" in output
    assert decoded.shape == (40, 56, 3)


def test_a_text_file_named_png_is_refused(
    model_dir: Path, images: dict[str, Path], tmp_path: Path
) -> None:
    result = runner.invoke(
        app, ["encode", str(model_dir), str(images["text"]), str(tmp_path / "x")]
    )
    assert result.exit_code == 2
    assert "notes.png" in flat(result.output) and "not a readable image" in flat(result.output)
    assert not (tmp_path / "x").exists()


def test_missing_files_are_named(model_dir: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.png"
    result = runner.invoke(app, ["encode", str(model_dir), str(missing), str(tmp_path / "x")])
    assert result.exit_code == 2 and "nowhere.png: no such file" in flat(result.output)
    result = runner.invoke(app, ["decode", str(model_dir), str(missing), str(tmp_path / "x.png")])
    assert result.exit_code == 2 and "nowhere.png: no such file" in flat(result.output)


def test_bad_bitstreams_and_model_folders_are_named(
    model_dir: Path, images: dict[str, Path], tmp_path: Path
) -> None:
    truncated = tmp_path / "cut.cnas"
    round_trip(model_dir, images["rgb"], tmp_path)
    truncated.write_bytes((tmp_path / "out.cnas").read_bytes()[:-7])
    result = runner.invoke(app, ["decode", str(model_dir), str(truncated), str(tmp_path / "y.png")])
    assert result.exit_code == 2 and "cut.cnas: cannot be decoded" in flat(result.output)
    other = write_model_dir(tmp_path / "other-model", seed=1)
    result = runner.invoke(app, ["decode", str(other), str(tmp_path / "out.cnas"), "z.png"])
    assert result.exit_code == 2 and "out.cnas: cannot be decoded" in flat(result.output)
    result = runner.invoke(app, ["encode", str(tmp_path), str(images["rgb"]), "z.cnas"])
    assert result.exit_code == 2 and "cannot load the codec" in flat(result.output)


def _png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG whose header claims width x height and holds no pixel data (a decompression bomb)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b""))
    return path


def test_a_decompression_bomb_header_is_refused_by_size(model_dir: Path, tmp_path: Path) -> None:
    bomb = _png_header_only(tmp_path / "bomb.png", 60_000, 60_000)  # 3.6 GP
    result = runner.invoke(app, ["encode", str(model_dir), str(bomb), str(tmp_path / "x")])
    assert result.exit_code == 2, result.output
    assert "bomb.png: not a readable image" in flat(result.output)
    assert "over the limit" in flat(result.output) and "Traceback" not in result.output


def test_an_output_in_a_missing_folder_is_refused_before_coding(
    model_dir: Path, images: dict[str, Path], tmp_path: Path
) -> None:
    target = tmp_path / "no" / "such" / "out.cnas"
    result = runner.invoke(app, ["encode", str(model_dir), str(images["rgb"]), str(target)])
    assert result.exit_code == 2 and "does not exist" in flat(result.output)
    round_trip(model_dir, images["rgb"], tmp_path)
    bitstream, decoded = tmp_path / "out.cnas", tmp_path / "gone" / "out.png"
    result = runner.invoke(app, ["decode", str(model_dir), str(bitstream), str(decoded)])
    assert result.exit_code == 2 and "does not exist" in flat(result.output)


def test_a_folder_given_as_the_image_is_named_as_one(model_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["encode", str(model_dir), str(tmp_path), str(tmp_path / "x")])
    assert result.exit_code == 2 and "is a folder, not an image file" in flat(result.output)


def test_an_animated_gif_is_coded_from_its_first_frame_with_a_warning(
    model_dir: Path, tmp_path: Path
) -> None:
    frames = [Image.new("RGB", (24, 16), colour) for colour in ("red", "green", "blue")]
    gif = tmp_path / "anim.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=100)
    output, decoded = round_trip(model_dir, gif, tmp_path)
    assert "anim.gif: 3 frames; only the first is coded" in output
    assert decoded.shape == (16, 24, 3)
