"""`codecnas codec eval`: the report files, and the BD-rate of a model with several rates."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from codec.anchors import MeanPoint
from codec.evaluation import EvaluationReport
from codecnas.codec_commands import app
from codecnas.codec_report import AnchorSummary, RateResult, bd_rates, write_report
from tests.codec_quality.cli_fixtures import photo, write_model_dir

runner = CliRunner()


def _model_and_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A model folder, and an image folder holding one 48x64 photo "a.png"."""
    monkeypatch.setenv("CODECNAS_ANCHOR_CACHE", str(tmp_path / "cache"))
    model_dir = write_model_dir(tmp_path / "model")
    folder = tmp_path / "images"
    folder.mkdir()
    Image.fromarray(photo(48, 64, seed=2)).save(folder / "a.png")
    return model_dir, folder


def test_eval_writes_table_csv_plot_and_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model_dir, folder = _model_and_folder(tmp_path, monkeypatch)
    Image.fromarray(photo(40, 40, seed=3)).save(folder / "b.jpg", quality=95)
    (folder / "readme.txt").write_text("not an image")
    out = tmp_path / "report"
    result = runner.invoke(
        app,
        [
            "eval", str(model_dir), str(folder), "--out", str(out),
            "--metrics", "psnr,ssimulacra2", "--anchors", "jpeg,webp",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "readme.txt" in result.output.replace("\n", "")  # skipped with a warning
    rows = list(csv.DictReader((out / "per_image.csv").open()))
    assert [r["image"] for r in rows] == ["a", "b"]
    assert all(float(r["bpp"]) > 0 and r["ssimulacra2"] and r["ms_ssim"] == "" for r in rows)
    table = (out / "report.md").read_text()
    assert "| a | fixed |" in table and "**mean**" in table and "No BD-rate" in table
    with Image.open(out / "rate_quality.png") as plot:
        assert plot.format == "PNG" and plot.width > 300
    document = json.loads((out / "report.json").read_text())
    assert set(document["anchors"]) == {"jpeg", "webp"}
    assert len(list((tmp_path / "cache").glob("*.json"))) == 4  # 2 images x 2 anchors


def test_eval_rejects_unknown_names_and_empty_folders(tmp_path: Path) -> None:
    model_dir = write_model_dir(tmp_path / "model")
    result = runner.invoke(app, ["eval", str(model_dir), str(tmp_path), "--anchors", "bpg"])
    assert result.exit_code == 2 and "bpg" in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(app, ["eval", str(model_dir), str(empty)])
    assert result.exit_code == 2 and "no usable image" in result.output.replace("\n", "")


def test_eval_skips_images_too_small_to_score_naming_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model_dir, folder = _model_and_folder(tmp_path, monkeypatch)
    Image.fromarray(photo(1, 1, seed=3)).save(folder / "dot.png")
    out = tmp_path / "report"
    result = runner.invoke(
        app, ["eval", str(model_dir), str(folder), "--out", str(out), "--anchors", "jpeg"]
    )
    assert result.exit_code == 0, result.output
    assert "dot.png (1x1: sides under 11 px)" in result.output.replace("\n", "")
    assert [r["image"] for r in csv.DictReader((out / "per_image.csv").open())] == ["a"]
    only_dots = tmp_path / "dots"
    only_dots.mkdir()
    Image.fromarray(photo(1, 1, seed=3)).save(only_dots / "dot.png")
    result = runner.invoke(app, ["eval", str(model_dir), str(only_dots)])
    assert result.exit_code == 2 and "no usable image" in result.output.replace("\n", "")


def synthetic_report(bpp: float, psnr: float) -> EvaluationReport:
    row = {"bpp": bpp, "psnr": psnr, "encode_s": 0.1, "decode_s": 0.1}
    row |= {
        "anchor_bpp_equal_quality": bpp,
        "bitrate_ratio_vs_anchor": 1.0,
        "anchor_extrapolated": 0.0,
    }
    summary = dict(row) | {"quality_ratio_vs_anchor": 1.0, "images": 1.0}
    return EvaluationReport("psnr", "jpeg", {"img": row}, summary)


def test_four_rates_give_a_bd_rate_per_anchor(tmp_path: Path) -> None:
    anchor = AnchorSummary(
        "jpeg",
        "JPEG",
        tuple(MeanPoint(q, 10 ** (-2 + 0.1 * q), float(q)) for q in (28, 31, 34, 37, 40)),
    )
    results = [
        RateResult(float(i), synthetic_report(0.8 * 10 ** (-2 + 0.1 * q), q))
        for i, q in enumerate((30, 32, 34, 36))
    ]
    bd = bd_rates(results, [anchor], "psnr")
    assert bd["jpeg"] == pytest.approx(-20.0, abs=1e-6)
    paths = write_report(tmp_path, "model", results, [anchor], "psnr")
    assert "| JPEG | -20.0 % |" in paths["table"].read_text()
    assert bd_rates(results[:3], [anchor], "psnr") == {}
    far = AnchorSummary("webp", "WebP", tuple(MeanPoint(q, 1.0 + q, 60.0 + q) for q in range(5)))
    assert math.isnan(bd_rates(results, [far], "psnr")["webp"])
