"""The report of `codecnas codec eval`: per-image table (Markdown and CSV), rate–quality plot (PNG),
BD-rates against the anchors, and everything as JSON.

The plot shows each anchor's mean curve over the images (mean bpp against the mean metric at each
quality setting, as published curves average them) and the model's point per rate: a fixed-rate
model has one, a variable-rate model one per rate position. With at least four rate points the
model's own curve gets a BD-rate against each anchor's mean curve (codec/bd_rate.py).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display here, and none needed
import matplotlib.pyplot as plt

from codec.anchor_extrapolation import FOOTNOTE, IMAGE_KEY, IMAGE_RATIO, extrapolation, flag
from codec.anchors import MeanPoint
from codec.bd_rate import MIN_POINTS, bd_rate
from codec.evaluation import EvaluationReport
from codec.metrics import QUALITY_METRICS, quality_metric

TABLE_FILE, CSV_FILE, PLOT_FILE, JSON_FILE = (
    "report.md",
    "per_image.csv",
    "rate_quality.png",
    "report.json",
)
_COLUMNS = ("bpp", *QUALITY_METRICS, "encode_s", "decode_s", "bitrate_ratio_vs_anchor")


@dataclass(frozen=True)
class RateResult:
    """The evaluation of the model at one rate (`rate` None for a fixed-rate model)."""

    rate: float | None
    report: EvaluationReport


@dataclass(frozen=True)
class AnchorSummary:
    name: str
    label: str
    curve: tuple[MeanPoint, ...]


def _cell(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.4f}" if math.isfinite(value) else str(value)


def _table_cell(row: dict[str, float], column: str, summary: bool) -> str:
    """A Markdown cell: the ratio marked when extrapolated (the mean's with its image count)."""
    if column not in row:
        return ""
    text = flag(_cell(row.get(column)), column, row)
    found = extrapolation(row) if summary and column == IMAGE_RATIO else None
    return text if found is None else f"{text} ({found.note})"


def _rate_label(rate: float | None) -> str:
    return "fixed" if rate is None else f"{rate:g}"


def model_curve(results: Sequence[RateResult], metric: str) -> list[tuple[float, float]]:
    """(mean bpp, mean metric) per rate, sorted by bpp."""
    points = [(r.report.summary["bpp"], r.report.summary[metric]) for r in results]
    return sorted(points)


def _bd_cell(value: float) -> str:
    if math.isnan(value):
        return "none: the curves share no quality range"
    return f"{value:+.1f} %"


def bd_rates(
    results: Sequence[RateResult], anchors: Sequence[AnchorSummary], metric: str
) -> dict[str, float]:
    """BD-rate (%) of the model's curve against each anchor; empty below MIN_POINTS rates."""
    if len(results) < MIN_POINTS:
        return {}
    axis = quality_metric(metric).to_axis
    test = [(bpp, axis(value)) for bpp, value in model_curve(results, metric)]
    values = {}
    for anchor in anchors:
        reference = [(p.bpp, axis(p.value)) for p in anchor.curve]
        try:
            values[anchor.name] = bd_rate(reference, test).percent
        except ValueError:
            values[anchor.name] = math.nan  # no overlap in quality: no meaningful BD-rate
    return values


def _write_csv(path: Path, results: Sequence[RateResult]) -> None:
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        columns = (*_COLUMNS, IMAGE_KEY)  # 1.0000 where the ratio was extrapolated
        writer.writerow(["image", "rate", *columns])
        for result in results:
            for name, row in result.report.per_image.items():
                writer.writerow(
                    [name, _rate_label(result.rate), *(_cell(row.get(k)) for k in columns)]
                )


def _markdown(
    model_name: str,
    results: Sequence[RateResult],
    anchors: Sequence[AnchorSummary],
    metric: str,
    bd: dict[str, float],
) -> str:
    columns = [
        c for c in _COLUMNS if any(c in row for r in results for row in r.report.per_image.values())
    ]
    anchor = results[0].report.anchor
    lines = [f"# Evaluation of {model_name}", ""]
    lines += [f"Quality metric for the anchor comparison: {metric}; ratio anchor: {anchor}.", ""]
    header = ["image", "rate", *[c.replace("_vs_anchor", f" vs {anchor}") for c in columns]]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for result in results:
        rows = [*result.report.per_image.items(), ("**mean**", result.report.summary)]
        for name, row in rows:
            key_row = dict(row)
            summary = name == "**mean**"
            if summary:
                key_row[IMAGE_RATIO] = row["quality_ratio_vs_anchor"]
            cells = [name, _rate_label(result.rate)]
            cells += [_table_cell(key_row, c, summary) for c in columns]
            lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "The mean ratio is the geometric mean over the images.", ""]
    if any(extrapolation(r.report.summary) for r in results):
        lines += [FOOTNOTE + ".", ""]
    if bd:
        lines += [f"## BD-rate of the model's curve ({metric}, Akima)", ""]
        lines += ["| anchor | BD-rate |", "|---|---|"]
        lines += [f"| {a.label} | {_bd_cell(bd[a.name])} |" for a in anchors if a.name in bd]
    else:
        lines.append(
            f"No BD-rate: the model has {len(results)} rate point(s), fewer than {MIN_POINTS}."
        )
    lines += ["", f"![rate–quality]({PLOT_FILE})", ""]
    return "\n".join(lines)


def _plot(
    path: Path,
    model_name: str,
    results: Sequence[RateResult],
    anchors: Sequence[AnchorSummary],
    metric: str,
) -> None:
    label = quality_metric(metric).label.split(" (")[0]
    figure, axes = plt.subplots(figsize=(7, 5), dpi=110)
    for anchor in anchors:
        points = sorted((p.bpp, p.value) for p in anchor.curve)
        axes.plot(*zip(*points, strict=True), marker=".", label=anchor.label)
    model_points = model_curve(results, metric)
    # Rates whose ratio vs the anchor was extrapolated get hollow markers.
    flagged = [
        (r.report.summary["bpp"], r.report.summary[metric])
        for r in results
        if extrapolation(r.report.summary)
    ]
    measured = [i for i, point in enumerate(model_points) if point not in flagged]
    axes.plot(
        *zip(*model_points, strict=True),
        marker="o",
        markevery=measured,
        linewidth=2,
        color="black",
        label=model_name,
    )
    if flagged:
        axes.plot(
            *zip(*flagged, strict=True),
            linestyle="none",
            marker="o",
            markersize=8,
            markerfacecolor="white",
            markeredgecolor="black",
            label=f"ratio vs {results[0].report.anchor} extrapolated (anchor curve out of range)",
        )
    axes.set_xlabel("bits per pixel (real file size)")
    axes.set_ylabel(f"mean {label}")
    axes.set_title(f"Rate–quality, mean over {int(results[0].report.summary['images'])} images")
    axes.grid(alpha=0.3)
    axes.legend()
    bpps = [b for b, _ in model_points]
    axes.set_xlim(0, max(2.0, 1.5 * max(bpps)))
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def _extrapolation_dict(result: RateResult) -> dict[str, object] | None:
    found = extrapolation(result.report.summary)
    return None if found is None else found.to_dict()


def write_report(
    out_dir: Path,
    model_name: str,
    results: Sequence[RateResult],
    anchors: Sequence[AnchorSummary],
    metric: str,
) -> dict[str, Path]:
    """Write the table, CSV, plot and JSON into `out_dir`; returns the paths by kind."""
    if not results:
        raise ValueError("write_report needs at least one evaluated rate, got none")
    out_dir.mkdir(parents=True, exist_ok=True)
    bd = bd_rates(results, anchors, metric)
    paths = {
        "table": out_dir / TABLE_FILE,
        "csv": out_dir / CSV_FILE,
        "plot": out_dir / PLOT_FILE,
        "json": out_dir / JSON_FILE,
    }
    _write_csv(paths["csv"], results)
    paths["table"].write_text(_markdown(model_name, results, anchors, metric, bd))
    _plot(paths["plot"], model_name, results, anchors, metric)
    document = {
        "model": model_name,
        "metric": metric,
        "rates": [
            {"rate": r.rate, **r.report.to_dict(), "ratio_extrapolation": _extrapolation_dict(r)}
            for r in results
        ],
        "ratio_extrapolation_note": FOOTNOTE,
        "anchors": {a.name: [vars(p) for p in a.curve] for a in anchors},
        "bd_rate_percent": bd,
    }
    paths["json"].write_text(json.dumps(document, indent=1, default=str))
    return paths
