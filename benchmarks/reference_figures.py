"""Figures of an evaluated codec against the anchors, from `codecnas codec eval`'s per_image.csv.

    .venv/bin/python benchmarks/reference_figures.py benchmarks/results/reference-eval \
        --anchors jpeg,webp,avif --metric psnr [--images kodim04,kodim08]

Per rate point: mean bpp, PSNR, SSIMULACRA2, and the geometric mean over the images of the
bits ratio against each anchor at equal quality of --metric (the anchor's curve of the same
image, interpolated in log bpp; extrapolated ratios are counted and flagged). Then the BD-rate of
the codec's mean curve against each anchor's mean curve (codec/bd_rate.py), or why there is none.
Anchor curves come from $CODECNAS_ANCHOR_CACHE (computed there when missing).
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from codec.anchor_codecs import anchor_codec
from codec.anchors import anchor_curve, equal_quality_bpp, mean_curve
from codec.bd_rate import MIN_POINTS, bd_rate
from codec.images import load_images

Rows = dict[str, list[dict[str, str]]]  # rate label -> per-image rows


def _rows(report: Path, images: set[str] | None) -> Rows:
    by_rate: Rows = defaultdict(list)
    with (report / "per_image.csv").open() as handle:
        for row in csv.DictReader(handle):
            if images is None or row["image"] in images:
                by_rate[row["rate"]].append(row)
    return dict(by_rate)


def _mean(rows: list[dict[str, str]], key: str) -> float:
    values = [float(r[key]) for r in rows if r.get(key)]
    return float(np.mean(values)) if values else math.nan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("report", type=Path, help="a `codecnas codec eval` output folder")
    parser.add_argument("--kodak", default="/work/shared/data/kodak")
    parser.add_argument("--anchors", default="jpeg,webp,avif")
    parser.add_argument("--metric", default="psnr")
    parser.add_argument("--images", default="", help="only these images (comma-separated)")
    args = parser.parse_args()
    subset = {n for n in args.images.split(",") if n} or None
    rows = _rows(args.report, subset)
    pixels = {
        i.name: i.pixels for i in load_images(args.kodak) if subset is None or i.name in subset
    }
    cache = os.environ.get("CODECNAS_ANCHOR_CACHE")
    anchors = [a for a in args.anchors.split(",") if a]
    curves = {
        a: {n: anchor_curve(p, anchor_codec(a), [args.metric], cache) for n, p in pixels.items()}
        for a in anchors
    }
    m = args.metric
    print(f"images: {len(pixels)}; metric for ratios and BD-rate: {m}\n")
    print(
        "| rate | bpp | PSNR dB | SSIMULACRA2 | "
        + " | ".join(f"bits vs {a}" for a in anchors)
        + " |"
    )
    print("|---|---|---|---|" + "---|" * len(anchors))
    for rate, items in rows.items():
        cells = []
        for a in anchors:
            ratios, extrapolated = [], 0
            for r in items:
                found = equal_quality_bpp(curves[a][r["image"]], m, float(r[m]))
                ratios.append(float(r["bpp"]) / found.bpp)
                extrapolated += found.extrapolated
            note = f" ({extrapolated} extrap.)" if extrapolated else ""
            cells.append(f"{math.exp(np.mean(np.log(ratios))):.2f}x{note}")
        print(
            f"| {rate} | {_mean(items, 'bpp'):.3f} | {_mean(items, 'psnr'):.2f} | "
            f"{_mean(items, 'ssimulacra2'):.2f} | " + " | ".join(cells) + " |"
        )
    model = sorted((_mean(i, "bpp"), _mean(i, m)) for i in rows.values())
    print()
    for a in anchors:
        reference = [(p.bpp, p.value) for p in mean_curve(list(curves[a].values()), m)]
        if len(model) < MIN_POINTS:
            print(f"- BD-rate vs {a}: none, the codec has {len(model)} rate point(s)")
            continue
        try:
            result = bd_rate(reference, model)
            print(f"- BD-rate vs {a} ({m}): {result.percent:+.1f}% (overlap {result.overlap:.0%})")
        except ValueError as error:
            print(f"- BD-rate vs {a} ({m}): none ({error})")


if __name__ == "__main__":
    main()
