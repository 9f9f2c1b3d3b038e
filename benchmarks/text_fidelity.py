"""Does TextFidelityLoss lower the error inside text regions? Measured on held-out rendered text.

Three trainings of one small scale-hyperprior codec, same seed, steps and data (the training
photos with text drawn on half of the crops, codec/text_render.py):

  A  MSE loss at lambda            (baseline)
  B  MSE + TextFidelityLoss at lambda
  C  MSE loss at a higher lambda   (baseline at a higher rate, to compare B at equal bpp)

Held out: one 256x256 crop of every Kodak image with text rendered by another seed, coded with
real bitstreams. Reported per run: bpp, PSNR of the whole crop, PSNR inside and outside the text
regions; and B's text-region PSNR against the baseline interpolated (A..C, linear in log bpp) at
B's bpp, which separates "better text" from "more bits".

Usage: .venv/bin/python benchmarks/text_fidelity.py [--steps N] [--text-weight W]
Writes benchmarks/results/text_fidelity.md.
"""

from __future__ import annotations

import argparse
import math
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from codec import CodecArchitecture, build_codec
from codec.images import NamedImage, load_images, to_pixels, to_tensor
from codec.losses import LossWeights
from codec.model import LearnedCodec
from codec.text_render import TextRenderer
from codec.training import TrainingConfig, train

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"


def psnr(mse: float) -> float:
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


def held_out(kodak: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        images = load_images(str(kodak))
    renderer = TextRenderer(seed=2024)
    crops = []
    for image in images:
        top, left = (image.height - 256) // 2, (image.width - 256) // 2
        crop = image.pixels[top : top + 256, left : left + 256].copy()
        crops.append(renderer.render(crop, lines=3))
    return crops


def measure(model: LearnedCodec, crops: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    bits = inside = outside = whole = 0.0
    n_inside = n_outside = 0
    for pixels, mask in crops:
        with torch.inference_mode():
            data = model.compress(to_tensor(pixels))
            decoded = to_pixels(model.decompress(data))
        error = (decoded.astype(np.float64) - pixels.astype(np.float64)) ** 2
        bits += len(data) * 8
        inside += float(error[mask].sum())
        outside += float(error[~mask].sum())
        whole += float(error.mean())
        n_inside += int(mask.sum()) * 3
        n_outside += int((~mask).sum()) * 3
    pixels_total = sum(p.shape[0] * p.shape[1] for p, _ in crops)
    return {
        "bpp": bits / pixels_total,
        "psnr": psnr(whole / len(crops)),
        "text_psnr": psnr(inside / n_inside),
        "other_psnr": psnr(outside / n_outside),
        "text_fraction": n_inside / (n_inside + n_outside),
    }


def run(
    images: list[NamedImage], lmbda: float, weights: LossWeights, steps: int, channels: int
) -> LearnedCodec:
    torch.manual_seed(0)
    model = build_codec(
        CodecArchitecture(
            channels=channels,
            latent_channels=channels + channels // 2,
            stages=3,
            block="conv",
            activation="relu",
            hyperprior=True,
        )
    )
    config = TrainingConfig(
        steps=steps,
        batch_size=8,
        crop_size=128,
        learning_rate=1e-3,
        lmbda=lmbda,
        loss=weights,
        text_fraction=0.5,
        log_every=max(1, steps // 5),
    )
    train(model, images, config)
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--channels", type=int, default=32)
    parser.add_argument("--lmbda", type=float, default=0.0067)
    parser.add_argument("--higher-lmbda", type=float, default=0.013)
    parser.add_argument("--text-weight", type=float, default=1.0)
    parser.add_argument("--train", type=Path, default=DATA / "train")
    parser.add_argument("--kodak", type=Path, default=DATA / "kodak")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/text_fidelity.md")
    args = parser.parse_args()
    torch.set_num_threads(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        images = load_images(str(args.train))
    crops = held_out(args.kodak)
    runs = {
        "A: MSE": (args.lmbda, LossWeights()),
        f"B: MSE + text x{args.text_weight:g}": (args.lmbda, LossWeights(text=args.text_weight)),
        "C: MSE, higher lambda": (args.higher_lmbda, LossWeights()),
    }
    results = {}
    for name, (lmbda, weights) in runs.items():
        started = time.perf_counter()
        model = run(images, lmbda, weights, args.steps, args.channels)
        results[name] = measure(model, crops) | {
            "lmbda": lmbda,
            "train_s": time.perf_counter() - started,
        }
        print(name, results[name], flush=True)
    (a, b, c) = results.values()
    # baseline text PSNR at B's bpp: A..C interpolated linearly in log bpp
    t = (math.log(b["bpp"]) - math.log(a["bpp"])) / (math.log(c["bpp"]) - math.log(a["bpp"]))
    baseline_text = a["text_psnr"] + t * (c["text_psnr"] - a["text_psnr"])
    baseline_other = a["other_psnr"] + t * (c["other_psnr"] - a["other_psnr"])
    lines = [
        "# TextFidelityLoss on held-out rendered text",
        "",
        f"Small scale hyperprior ({args.channels} channels, {args.channels * 3 // 2} latents, "
        f"3 stages), {args.steps} steps, batch 8,",
        f"128 px crops of {args.train} with text on half of the crops in every run; held out:",
        f"{len(crops)} Kodak 256x256 centre crops, 3 text lines each (seed 2024), real bitstreams.",
        "Reproduce: `.venv/bin/python benchmarks/text_fidelity.py`.",
        "",
        "| run | lambda | bpp | PSNR | text-region PSNR | non-text PSNR | train s |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['lmbda']:g} | {r['bpp']:.4f} | {r['psnr']:.2f} | "
            f"{r['text_psnr']:.2f} | {r['other_psnr']:.2f} | {r['train_s']:.0f} |"
        )
    text_mse_ratio = 10 ** ((baseline_text - b["text_psnr"]) / 10)
    inside = min(a["bpp"], c["bpp"]) <= b["bpp"] <= max(a["bpp"], c["bpp"])
    how = "interpolated" if inside else "EXTRAPOLATED (B's bpp lies outside A..C)"
    lines += [
        "",
        f"Text regions cover {100 * a['text_fraction']:.1f}% of the held-out pixels.",
        f"Same lambda: the text loss changes text-region PSNR by "
        f"{b['text_psnr'] - a['text_psnr']:+.2f} dB at "
        f"{100 * (b['bpp'] / a['bpp'] - 1):+.1f}% bpp.",
        f"At equal bpp ({b['bpp']:.4f}, baseline {how} from A and C): text-region PSNR "
        f"{b['text_psnr']:.2f} dB vs {baseline_text:.2f} dB ({b['text_psnr'] - baseline_text:+.2f} "
        f"dB, text-region MSE x{text_mse_ratio:.2f}); non-text PSNR {b['other_psnr']:.2f} vs "
        f"{baseline_other:.2f} dB.",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
