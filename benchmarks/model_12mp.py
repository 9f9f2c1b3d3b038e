"""Encode and decode time of a trained codec (a model folder) on a 12 MP image, next to AVIF.

    .venv/bin/python benchmarks/model_12mp.py --model benchmarks/results/reference-codec

The image is benchmarks/tiled_12mp.py's 4032 x 3024 mosaic of 9 photos. The codec codes it
tile by tile as the CLI does (TiledCodec.for_model: the architecture's tile and margin, a pool
of 2 worker threads, 1 torch thread each) at every rate position asked for; AVIF (Pillow,
libavif, speed 6, 4:2:0) codes the same pixels at the quality whose bpp comes closest to the
codec's. Each time is the fastest of --repeats, measured in this one process (the machine is
shared, so the fastest run is the least disturbed one). Writes --out as Markdown.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.tiled_12mp import DEFAULT_TRAIN, HEIGHT, MOSAIC, WIDTH, _mosaic  # noqa: E402
from codec.anchor_codecs import anchor_codec  # noqa: E402
from codec.images import load_images  # noqa: E402
from codec.metrics import psnr_from_mse  # noqa: E402
from codec.tiled_codec import TiledCodec  # noqa: E402
from search_spaces.model_dir import load_codec  # noqa: E402

AVIF_QUALITIES = tuple(range(10, 96, 5))
T = TypeVar("T")


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return psnr_from_mse(float(np.mean((a.astype(np.float64) - b) ** 2)) / 255.0**2)


def _fastest(work: Callable[[], T], repeats: int) -> tuple[float, T]:
    """(fastest wall seconds of `repeats` calls, the last call's result)."""
    best = float("inf")
    for _ in range(max(1, repeats)):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return best, result


def _time_learned(codec: TiledCodec, image: np.ndarray, repeats: int) -> tuple[str, int]:
    enc, data = _fastest(partial(codec.encode, image), repeats)
    dec, decoded = _fastest(partial(codec.decode, data), repeats)
    label = "top" if codec.rate is None else f"{codec.rate:g}"
    row = _row(f"learned codec, rate {label}", enc, dec, len(data), _psnr(decoded, image))
    return row, len(data)


def _time_avif(image: np.ndarray, quality: int, repeats: int) -> str:
    avif = anchor_codec("avif")
    enc, data = _fastest(partial(avif.encode, image, quality), repeats)
    dec, pixels = _fastest(partial(avif.decode, data), repeats)
    return _row(f"AVIF q{quality}", enc, dec, len(data), _psnr(pixels, image))


def _row(name: str, enc: float, dec: float, size: int, psnr: float) -> str:
    bpp = 8 * size / (HEIGHT * WIDTH)
    return f"| {name} | {enc:.2f} | {dec:.2f} | {bpp:.3f} | {psnr:.2f} |"


def _avif_quality_for(image: np.ndarray, target_bpp: float) -> int:
    """The AVIF quality whose bpp on a 1/4 centre crop is closest to target_bpp (cheap search)."""
    avif = anchor_codec("avif")
    h, w = image.shape[:2]
    crop = np.ascontiguousarray(image[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4])
    low, high = 0, len(AVIF_QUALITIES) - 1
    while low < high:  # bpp rises with quality: binary search for the first at or above target
        mid = (low + high) // 2
        bpp = 8 * len(avif.encode(crop, AVIF_QUALITIES[mid])) / (crop.shape[0] * crop.shape[1])
        low, high = (mid + 1, high) if bpp < target_bpp else (low, mid)
    return AVIF_QUALITIES[low]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, required=True, help="a model folder")
    parser.add_argument("--rates", default="", help="rate positions, e.g. 1,3,5 (default: top)")
    parser.add_argument("--train", default=str(DEFAULT_TRAIN), help="photos for the mosaic")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/results/model_12mp.md")
    args = parser.parse_args()
    torch.set_num_threads(args.workers)
    load_before = os.getloadavg()[0]
    image = _mosaic(load_images(args.train)[-MOSAIC * MOSAIC :])
    model = load_codec(args.model)
    rates: list[float | None] = [float(r) for r in args.rates.split(",") if r] or [None]
    rows, avif_rows = [], []
    for rate in rates:
        codec = TiledCodec.for_model(model, workers=args.workers, rate=rate)
        row, size = _time_learned(codec, image, args.repeats)
        rows.append(row)
        quality = _avif_quality_for(image, 8 * size / (HEIGHT * WIDTH))
        avif_rows.append(_time_avif(image, quality, args.repeats))
        print(rows[-1], avif_rows[-1], sep="\n", flush=True)
    lines = [
        "| codec | encode s | decode s | bpp | PSNR dB |",
        "| --- | ---: | ---: | ---: | ---: |",
        *[line for pair in zip(rows, avif_rows, strict=True) for line in pair],
        "",
        f"Model `{args.model}`; image {WIDTH}x{HEIGHT} (mosaic of 9 photos of `{args.train}`); "
        f"fastest of {args.repeats}; learned codec: {args.workers} worker threads, 1 torch "
        f"thread each; AVIF: Pillow {anchor_codec('avif').fingerprint}. Load average "
        f"{load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end (2 cores shared "
        "with other work). "
        f"Reproduce: `.venv/bin/python benchmarks/model_12mp.py --model {args.model}"
        f"{' --rates ' + args.rates if args.rates else ''} --repeats {args.repeats}`.",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
