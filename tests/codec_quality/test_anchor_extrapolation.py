"""The one rule that flags an extrapolated bits-vs-anchor ratio, and `codecnas codec eval`'s
report showing it: Markdown, CSV, JSON and the plot's hollow markers and legend."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from codec.anchor_extrapolation import (
    FOOTNOTE,
    MARKER,
    extrapolation,
    flag,
    flagged_ratios,
    ratio_note,
)
from codec.anchors import MeanPoint
from codec.evaluation import EvaluationReport, summarise
from codecnas import codec_report
from codecnas.codec_report import AnchorSummary, RateResult, write_report


def _row(bpp: float, ratio: float, extrapolated: bool) -> dict[str, float]:
    return {
        "bpp": bpp,
        "psnr": 30.0 + bpp,
        "anchor_bpp_equal_quality": bpp / ratio,
        "bitrate_ratio_vs_anchor": ratio,
        "anchor_extrapolated": float(extrapolated),
        "encode_s": 0.1,
        "decode_s": 0.1,
    }


def _report(*extrapolated: bool, bpp: float = 0.5) -> EvaluationReport:
    per_image = {f"img{i}": _row(bpp, 1.5 + i, e) for i, e in enumerate(extrapolated)}
    return EvaluationReport("psnr", "jpeg", per_image, summarise(per_image, "jpeg"))


def test_any_extrapolated_image_flags_the_ratios_with_its_count() -> None:
    summary = _report(True, False, True).summary
    found = extrapolation(summary)
    assert found is not None and (found.count, found.images, found.share) == (2, 3, "2/3")
    assert ratio_note("quality_ratio_vs_jpeg", summary) == "extrap. 2/3 images"
    assert flag("1.850", "quality_ratio_vs_anchor", summary) == f"1.850{MARKER}"
    assert flag("0.500", "bpp", summary) == "0.500"  # only ratios are flagged
    assert set(flagged_ratios(summary)) == {"quality_ratio_vs_anchor", "quality_ratio_vs_jpeg"}
    assert ratio_note("bitrate_ratio_vs_anchor", _row(1.0, 2.0, True)) == "extrap. 1/1 image"


@pytest.mark.parametrize(
    "metrics",
    [
        {"quality_ratio_vs_jpeg": 1.2, "anchor_extrapolated_fraction": 0.0, "images": 6.0},
        {"quality_ratio_vs_jpeg": 1.2},  # not recorded (older trials): nothing to say
        {"quality_ratio_vs_jpeg": 1.2, "anchor_extrapolated_fraction": math.nan},
    ],
)
def test_no_flag_without_an_extrapolated_image(metrics: dict[str, float]) -> None:
    assert extrapolation(metrics) is None and flagged_ratios(metrics) == {}
    assert flag("1.200", "quality_ratio_vs_jpeg", metrics) == "1.200"


def test_without_an_image_count_the_share_is_a_percentage() -> None:
    note = ratio_note("quality_ratio_vs_jpeg", {"anchor_extrapolated_fraction": 0.5})
    assert note == "extrap. 50% of images"


def _anchor() -> AnchorSummary:
    curve = tuple(MeanPoint(q, 0.1 * q, 25.0 + q) for q in range(1, 9))
    return AnchorSummary("jpeg", "JPEG", curve)


def test_eval_report_flags_extrapolated_ratios(tmp_path: Path) -> None:
    results = [RateResult(0.0, _report(True, False, bpp=0.4)), RateResult(1.0, _report(False))]
    paths = write_report(tmp_path, "model", results, [_anchor()], "psnr")
    table = paths["table"].read_text()
    assert f"| img0 | 0 | 0.4000 | 30.4000 | 0.1000 | 0.1000 | 1.5000{MARKER} |" in table
    assert "| img1 | 0 | 0.4000 | 30.4000 | 0.1000 | 0.1000 | 2.5000 |" in table
    means = [line for line in table.splitlines() if line.startswith("| **mean**")]
    assert means[0].endswith(f"| 1.9365{MARKER} (extrap. 1/2 images) |")
    assert means[1].endswith("| 1.5000 |")
    assert FOOTNOTE in table
    rows = list(csv.DictReader(paths["csv"].open()))
    assert [r["anchor_extrapolated"] for r in rows] == ["1.0000", "0.0000", "0.0000"]
    rates = json.loads(paths["json"].read_text())["rates"]
    assert rates[0]["ratio_extrapolation"] == {
        "fraction": 0.5,
        "images": 2,
        "note": "extrap. 1/2 images",
    }
    assert rates[1]["ratio_extrapolation"] is None


def test_eval_report_without_extrapolation_has_no_footnote(tmp_path: Path) -> None:
    paths = write_report(tmp_path, "model", [RateResult(None, _report(False))], [_anchor()], "psnr")
    table = paths["table"].read_text()
    assert FOOTNOTE not in table and f"0{MARKER}" not in table and "extrap" not in table


def test_plot_draws_extrapolated_rates_hollow_with_a_legend_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[Figure] = []
    monkeypatch.setattr(codec_report.plt, "close", drawn.append)
    results = [RateResult(0.0, _report(True, bpp=0.4)), RateResult(1.0, _report(False, bpp=0.8))]
    write_report(tmp_path, "model", results, [_anchor()], "psnr")
    axes = drawn[0].axes[0]
    legend = axes.get_legend()
    assert legend is not None
    labels = [text.get_text() for text in legend.get_texts()]
    assert "ratio vs jpeg extrapolated (anchor curve out of range)" in labels
    hollow = next(line for line in axes.get_lines() if str(line.get_label()).startswith("ratio"))
    assert hollow.get_markerfacecolor() == "white"
    assert np.asarray(hollow.get_xydata()).tolist() == [[0.4, 30.4]]
    model = next(line for line in axes.get_lines() if line.get_label() == "model")
    assert model.get_markevery() == [1]  # filled marker on the measured rate only
    plt.close(drawn[0])
