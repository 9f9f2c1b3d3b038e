"""The shipped reference codec through the CLI: encode at a position, a size or a PSNR, decode."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from codec.rate_control import RateTarget, parse_rate
from codecnas.codec_commands import app

REFERENCE = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "reference-codec"
runner = CliRunner()


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # A smooth gradient with texture: something the codec neither drops nor codes losslessly.
    y, x = np.mgrid[0:96, 0:128]
    rng = np.random.default_rng(0)
    pixels = np.stack([x * 2, y * 2, (x + y)], axis=-1) + rng.integers(0, 24, (96, 128, 3))
    path = tmp_path_factory.mktemp("photo") / "photo.png"
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(path)
    return path


def _encode(photo: Path, out: Path, *rate: str) -> tuple[int, str, float]:
    result = runner.invoke(app, ["encode", str(REFERENCE), str(photo), str(out), *rate])
    return (
        result.exit_code,
        result.output,
        out.stat().st_size * 8 / (96 * 128) if out.exists() else 0,
    )


def _psnr(photo: Path, bitstream: Path, tmp_path: Path) -> float:
    decoded = tmp_path / "decoded.png"
    result = runner.invoke(app, ["decode", str(REFERENCE), str(bitstream), str(decoded)])
    assert result.exit_code == 0, result.output
    a = np.asarray(Image.open(photo), dtype=np.float64)
    b = np.asarray(Image.open(decoded), dtype=np.float64)
    return float(10 * np.log10(255.0**2 / np.mean((a - b) ** 2)))


def test_rate_positions_order_size_and_quality(photo: Path, tmp_path: Path) -> None:
    sizes, qualities = [], []
    for position in ("0", "2.5", "5"):
        out = tmp_path / f"p{position}.cnas"
        code, output, bpp = _encode(photo, out, "--rate", position)
        assert code == 0, output
        sizes.append(bpp)
        qualities.append(_psnr(photo, out, tmp_path))
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]
    assert qualities == sorted(qualities) and qualities[-1] - qualities[0] > 1.0


def test_size_and_quality_targets_are_met_by_the_real_file(photo: Path, tmp_path: Path) -> None:
    low = tmp_path / "low.cnas"
    _encode(photo, low, "--rate", "0")
    top = tmp_path / "top.cnas"
    _encode(photo, top, "--rate", "5")
    low_bpp, top_bpp = (p.stat().st_size * 8 / (96 * 128) for p in (low, top))
    budget = (low_bpp + top_bpp) / 2
    sized = tmp_path / "sized.cnas"
    code, output, bpp = _encode(photo, sized, "--rate", f"{budget:.4f}bpp")
    assert code == 0, output
    assert low_bpp <= bpp <= budget
    goal = (_psnr(photo, low, tmp_path) + _psnr(photo, top, tmp_path)) / 2
    aimed = tmp_path / "aimed.cnas"
    code, output, _ = _encode(photo, aimed, "--rate", f"{goal:.2f}dB")
    assert code == 0, output
    assert _psnr(photo, aimed, tmp_path) >= goal - 0.01


def test_bad_rates_are_named(photo: Path, tmp_path: Path) -> None:
    code, output, _ = _encode(photo, tmp_path / "x.cnas", "--rate", "9")
    assert code != 0 and "positions 0..5" in output
    code, output, _ = _encode(photo, tmp_path / "y.cnas", "--rate", "fast")
    assert code != 0 and "'fast'" in output


def test_parse_rate_kinds() -> None:
    assert parse_rate("2.5") == RateTarget("position", 2.5)
    assert parse_rate("0.5bpp") == RateTarget("bpp", 0.5)
    assert parse_rate("32dB") == RateTarget("psnr", 32.0)
    with pytest.raises(ValueError, match="> 0"):
        parse_rate("0bpp")
