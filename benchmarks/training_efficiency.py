"""What a CPU budget buys each kind of transform: the textbook hyperprior vs PICO-style configs.

Every config trains on the same photos with the same recipe (batch 8 of 128 px crops, Adam with a
warm-up and one x0.1 decay at 85% of the steps, lambda 0.013, one torch thread) for the same
number of steps. Every `--eval-every` steps the model is coded for real on Kodak images (real
bitstreams, 8-bit decoded images) and the line gives bpp, PSNR, the bits it needs against JPEG at
equal PSNR (geometric mean over the images; "extrap." counts images outside JPEG's measured
range) and the unquantized bound: the PSNR of g_s(g_a(x)), what the transforms give before any
rounding. CPU seconds are the training process's own CPU time, evaluation excluded.

    nice .venv/bin/python benchmarks/training_efficiency.py --config textbook \\
        --train ../shared/data/train --kodak ../shared/data/kodak
    .venv/bin/python benchmarks/training_efficiency.py --report   # the markdown table

One config per process (run several side by side, one thread each); each writes
benchmarks/results/training_efficiency/NAME.json, and --report gathers them into
benchmarks/results/training_efficiency.md.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from codec.evaluation import evaluate
from codec.images import NamedImage, load_images, to_tensor
from codec.metrics import psnr_from_mse
from codec.model import LearnedCodec
from codec.training import TrainingConfig, TrainingProgress, train
from search_spaces import get_space
from search_spaces.macs import config_macs
from search_spaces.pico import PICO_LIKE_CONFIG, _levels

RESULTS = Path(__file__).resolve().parent / "results"
RUNS = RESULTS / "training_efficiency"

_FIXED_RATE = dict(variable_rate=False, learned_width=False, channel_groups=1)
CONFIGS: dict[str, dict[str, Any]] = {
    # Balle et al. 2018: 5x5 strided convs, GDN/IGDN, N=64, M=96, scale hyperprior.
    "textbook": dict(
        PICO_LIKE_CONFIG,
        **_FIXED_RATE,
        **_levels("enc", ((64, 0, 4, 3),) * 3),
        **_levels("dec", ((64, 0, 4, 3),) * 3),
        activation="gdn",
        resampling="conv",
        latent_channels=96,
        hyper_channels=64,
        entropy_model="scale_hyperprior",
    ),
    # PICO's backbone (Haar resampling, ConvScale inverted-residual chains) with GDN after each
    # resampling and the one-shot context model, decoder MACs close to the textbook's.
    "pico_gdn": dict(
        PICO_LIKE_CONFIG,
        **_FIXED_RATE,
        **_levels("enc", ((48, 1, 2, 3), (96, 1, 2, 3), (128, 1, 2, 3))),
        **_levels("dec", ((48, 1, 2, 3), (96, 1, 2, 3), (128, 1, 2, 3))),
        activation="gdn",
        resampling="haar",
        latent_channels=96,
        hyper_channels=64,
        entropy_model="context",
    ),
}


# The same PICO-style backbone with ReLU, as the space had it before GDN.
CONFIGS["pico_relu"] = dict(CONFIGS["pico_gdn"], activation="relu")


def unquantized_psnr(model: LearnedCodec, images: list[NamedImage]) -> float:
    """Mean PSNR of g_s(g_a(x)) over the images: the transforms' bound, before rounding."""
    values = []
    with torch.inference_mode():
        for image in images:
            x = to_tensor(image.pixels)
            m = model.size_multiple
            h, w = x.shape[2] // m * m, x.shape[3] // m * m
            x = x[:, :, :h, :w]
            x_hat = model.g_s(model.g_a(x)).clamp(0, 1)
            values.append(psnr_from_mse(float(torch.mean((x_hat - x) ** 2))))
    return sum(values) / len(values)


def checkpoint_row(
    model: LearnedCodec, images: list[NamedImage], step: int, cpu_s: float
) -> dict[str, Any]:
    frozen = copy.deepcopy(model).eval()
    frozen.prepare_for_coding()
    report = evaluate(
        frozen,
        images,
        quality_metric="psnr",
        anchor="jpeg",
        metrics=("psnr",),
        anchor_cache_dir=os.environ.get("CODECNAS_ANCHOR_CACHE"),
    )
    summary = report.summary
    return {
        "step": step,
        "cpu_s": round(cpu_s, 1),
        "bpp": round(summary["bpp"], 4),
        "psnr": round(summary["psnr"], 3),
        "bits_vs_jpeg": round(summary["quality_ratio_vs_jpeg"], 4),
        "extrapolated": round(summary["anchor_extrapolated_fraction"] * len(images)),
        "unquantized_psnr": round(unquantized_psnr(frozen, images), 3),
    }


def run(name: str, args: argparse.Namespace) -> dict[str, Any]:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    space = get_space("pico")
    config = CONFIGS[name]
    model = space.build(config)
    kodak = load_images(args.kodak)
    images = list(kodak[:: max(1, len(kodak) // args.images)][: args.images])
    macs = config_macs(space, config)
    rows: list[dict[str, Any]] = []
    result = {
        "name": name,
        "config": config,
        "decoder_kmacs_per_px": round(macs.decoder / 1000, 2),
        "encoder_kmacs_per_px": round(macs.encoder / 1000, 2),
        "params": sum(p.numel() for p in model.parameters()),
        "steps": args.steps,
        "learning_rate": args.lr,
        "warmup_steps": args.warmup,
        "images": [image.name for image in images],
        "rows": rows,
    }
    eval_cpu = 0.0

    def on_progress(progress: TrainingProgress) -> None:
        nonlocal eval_cpu
        if progress.step % args.eval_every and progress.step != progress.steps:
            return
        started = time.process_time()
        model.eval()
        row = checkpoint_row(model, images, progress.step, started - eval_cpu)
        model.train()
        eval_cpu += time.process_time() - started
        rows.append(row)
        save(result)  # after every checkpoint: a stopped run keeps what it measured
        print(name, json.dumps(row), f"load {os.getloadavg()[0]:.1f}", flush=True)

    train(
        model,
        load_images(args.train),
        TrainingConfig(
            steps=args.steps,
            batch_size=8,
            crop_size=128,
            learning_rate=args.lr,
            lmbda=0.013,
            warmup_steps=args.warmup,
            lr_decay_at=0.85,
            log_every=args.eval_every,
        ),
        on_progress=on_progress,
    )
    return result


def save(result: dict[str, Any]) -> None:
    RUNS.mkdir(parents=True, exist_ok=True)
    (RUNS / f"{result['name']}.json").write_text(json.dumps(result, indent=2))


def report() -> str:
    lines = [
        "| config | decoder kMACs/px | step | CPU s | bpp | PSNR dB | bits vs JPEG | extrap. | "
        "unquantized PSNR |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for path in sorted(RUNS.glob("*.json")):
        result = json.loads(path.read_text())
        for row in result["rows"]:
            lines.append(
                f"| {result['name']} | {result['decoder_kmacs_per_px']} | {row['step']} | "
                f"{row['cpu_s']:.0f} | {row['bpp']:.3f} | {row['psnr']:.2f} | "
                f"{row['bits_vs_jpeg']:.3f}x | {row['extrapolated']} | "
                f"{row['unquantized_psnr']:.2f} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", choices=sorted(CONFIGS))
    parser.add_argument("--train", default="../shared/data/train")
    parser.add_argument("--kodak", default="../shared/data/kodak")
    parser.add_argument("--images", type=int, default=6)
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--eval-every", type=int, default=2_000)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--report", action="store_true")
    args = parser.parse_args()
    if args.config:
        run(args.config, args)
    if args.report:
        print(report())


if __name__ == "__main__":
    main()
