"""Check our JPEG and WebP anchor curves on Kodak against the published points, time the metrics.

The published curves (../shared/data/anchors/kodak/jpeg.json, webp.json) come from CompressAI's
benchmark: Pillow's defaults (`img.save(format=..., quality=q)`: JPEG 4:2:0 without optimised
Huffman tables, WebP method 4), qualities 5..95, RGB PSNR per image averaged over the 24 images,
bpp averaged likewise. We measure the same settings with `codec.anchors.anchor_curve`, average
the same way, and compare bpp at equal PSNR: our mean curve is interpolated (log bpp against PSNR)
at each published point's PSNR. Our default JPEG anchor (optimised Huffman tables) is compared too.

Usage: .venv/bin/python benchmarks/anchor_check.py [KODAK_DIR] [ANCHOR_DIR] [--out FILE]
Writes benchmarks/results/anchor_check.md; curves are cached in $CODECNAS_ANCHOR_CACHE if set.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # FLIP's OpenMP: one thread, like the torch metrics

import argparse
import io
import json
import math
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from codec.anchor_codecs import ClassicCodec, anchor_codec, jpeg_codec, webp_codec
from codec.anchors import anchor_curve, mean_curve
from codec.images import NamedImage, load_images
from codec.metrics import QUALITY_METRICS

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_KODAK = ROOT.parent / "shared" / "data" / "kodak"
DEFAULT_PUBLISHED = ROOT.parent / "shared" / "data" / "anchors" / "kodak"
TOLERANCE = 0.02


def published_points(path: Path) -> list[tuple[float, float]]:
    results = json.loads(path.read_text())["results"]
    return list(zip(results["bpp"], results["psnr-rgb"], strict=True))


def bpp_at_psnr(curve: list[tuple[float, float]], psnr: float) -> float | None:
    """Our mean curve's bpp at `psnr` (log-bpp interpolation); None outside the curve."""
    ordered = sorted(curve, key=lambda point: point[1])
    psnrs = [p for _, p in ordered]
    if not psnrs[0] <= psnr <= psnrs[-1]:
        return None
    return math.exp(float(np.interp(psnr, psnrs, [math.log(b) for b, _ in ordered])))


Row = tuple[float, float, float | None, float | None]


def compare(
    codec: ClassicCodec,
    images: list[NamedImage],
    published: list[tuple[float, float]],
    cache: str | None,
) -> tuple[list[Row], list[float], list[tuple[float, float]], float]:
    """Rows per published point, bpp deviations at equal PSNR, (bpp, PSNR) deviations at equal
    setting (the published files list one point per quality 5..95, as ours), seconds."""
    started = time.perf_counter()
    curves = [anchor_curve(image.pixels, codec, ["psnr"], cache) for image in images]
    seconds = time.perf_counter() - started
    ours = [(p.bpp, p.value) for p in mean_curve(curves, "psnr")]
    same_setting = [
        (mine_bpp / bpp - 1.0, mine_psnr - psnr)
        for (mine_bpp, mine_psnr), (bpp, psnr) in zip(ours, published, strict=True)
    ]
    rows: list[Row] = []
    deviations: list[float] = []
    for bpp, psnr in published:
        mine = bpp_at_psnr(ours, psnr)
        deviation = None if mine is None else mine / bpp - 1.0
        if deviation is not None:
            deviations.append(deviation)
        rows.append((psnr, bpp, mine, deviation))
    return rows, deviations, same_setting, seconds


def time_metrics(image: np.ndarray) -> dict[str, float]:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=50)
    decoded = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))
    timings = {}
    for name, metric in QUALITY_METRICS.items():
        metric.measure(image, decoded)  # warm-up: imports, FLIP's native library
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            value = metric.measure(image, decoded)
            runs.append(time.perf_counter() - started)
        timings[name] = min(runs)
        timings[f"{name}_value"] = value
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kodak", nargs="?", type=Path, default=DEFAULT_KODAK)
    parser.add_argument("published", nargs="?", type=Path, default=DEFAULT_PUBLISHED)
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "results" / "anchor_check.md"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    cache = os.environ.get("CODECNAS_ANCHOR_CACHE")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SOURCE.txt in the folder is not an image
        images = load_images(str(args.kodak))
    checks = [
        ("JPEG, Pillow defaults (as published)", jpeg_codec(optimize=False), "jpeg.json"),
        ("WebP, Pillow defaults (as published)", webp_codec(), "webp.json"),
        ("JPEG, our anchor (optimised Huffman)", anchor_codec("jpeg"), "jpeg.json"),
    ]
    lines = [
        "# Anchor check on Kodak",
        "",
        f"{len(images)} images from {args.kodak}; published points from {args.published}.",
        "bpp at equal PSNR: our mean curve (per-image PSNR and bpp averaged per quality) is",
        "interpolated in log bpp at each published point's PSNR. Reproduce with",
        "`.venv/bin/python benchmarks/anchor_check.py`.",
        "",
        "The last two columns compare the points at equal quality setting instead (published",
        "files list qualities 5..95 in steps of 5, as ours): bpp ratio and PSNR difference.",
        "",
        "| curve | points | mean bpp deviation at equal PSNR | mean abs | max abs | within 2% "
        "| bpp at equal setting: mean abs (max) | PSNR at equal setting: mean (max abs) | s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    details = []
    for title, codec, file_name in checks:
        rows, deviations, same_setting, seconds = compare(
            codec, images, published_points(args.published / file_name), cache
        )
        absolute = [abs(d) for d in deviations]
        lines.append(
            f"| {title} | {len(deviations)}/{len(rows)} | "
            f"{100 * statistics.mean(deviations):+.2f}% | "
            f"{100 * statistics.mean(absolute):.2f}% | {100 * max(absolute):.2f}% | "
            f"{'yes' if max(absolute) <= TOLERANCE else 'no'} | "
            f"{100 * statistics.mean(abs(b) for b, _ in same_setting):.2f}% "
            f"({100 * max(abs(b) for b, _ in same_setting):.2f}%) | "
            f"{statistics.mean(p for _, p in same_setting):+.3f} dB "
            f"({max(abs(p) for _, p in same_setting):.3f} dB) | {seconds:.1f} |"
        )
        details += [
            "",
            f"## {title}",
            "",
            "| published PSNR | published bpp | our bpp | deviation |",
            "|---|---|---|---|",
        ]
        for psnr, bpp, mine, deviation in rows:
            ours_text = "outside our curve" if mine is None else f"{mine:.4f}"
            dev_text = "" if deviation is None else f"{100 * deviation:+.2f}%"
            details.append(f"| {psnr:.3f} | {bpp:.4f} | {ours_text} | {dev_text} |")
    timings = time_metrics(images[0].pixels)
    lines += [
        "",
        f"## Metric timing on {images[0].name} ({images[0].width}x{images[0].height}), JPEG q50,"
        " one thread, best of 3",
        "",
        "| metric | value | seconds |",
        "|---|---|---|",
    ]
    for name in QUALITY_METRICS:
        lines.append(f"| {name} | {timings[f'{name}_value']:.4f} | {timings[name]:.3f} |")
    lines += [
        "",
        f"Machine: {os.cpu_count()} cores shared with other jobs (load average "
        f"{os.getloadavg()[0]:.1f} at the end), so timings are upper bounds.",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines + details) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
