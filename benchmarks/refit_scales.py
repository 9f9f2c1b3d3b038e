"""Refit a model folder's scale decoder on the training photos (codec/scale_refit.py).

Everything but the scale decoder stays as it was, so the decoded images are bit-identical and
only the bits change. The symbols come from whole training photos at every rate point; Kodak is
never seen here (evaluate afterwards with `codecnas codec eval`).

    nice .venv/bin/python benchmarks/refit_scales.py benchmarks/results/reference-codec \\
        --train ../shared/data/train --out /tmp/refit --steps 3000

Writes OUT/config.json (the model's, with a "scale_refit" record) and OUT/model.pt (float16 when
the input was).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from codec.evaluation import rate_positions
from codec.images import load_images
from codec.scale_refit import RefitProgress, coded_symbols, refit_scale_decoder
from search_spaces.model_dir import CONFIG_FILE, WEIGHTS_FILE, load_codec, read_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("--train", default="../shared/data/train")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = load_codec(args.model_dir)
    model.eval()
    started = time.perf_counter()
    images = load_images(args.train)
    samples = coded_symbols(model, images, rate_positions(model))
    coding_s = time.perf_counter() - started
    print(f"{len(samples)} samples ({len(images)} photos) coded in {coding_s:.0f} s", flush=True)

    def show(p: RefitProgress) -> None:
        load = os.getloadavg()[0]
        print(f"step {p.step}/{p.steps} y bpp {p.bits_per_pixel:.4f} {p.elapsed_s:.0f}s "
              f"load {load:.1f}", flush=True)  # fmt: skip

    report = refit_scale_decoder(model, samples, args.steps, args.lr, on_progress=show)
    print(f"y bpp on the training photos: {report.bpp_before:.4f} -> {report.bpp_after:.4f}")
    doc = read_config(args.model_dir)
    doc["scale_refit"] = {
        "source": str(args.train),
        "photos": len(images),
        "samples": len(samples),
        "steps": report.steps,
        "learning_rate": args.lr,
        "seconds": round(report.seconds + coding_s, 1),
        "threads": args.threads,
        "train_y_bpp_before": round(report.bpp_before, 5),
        "train_y_bpp_after": round(report.bpp_after, 5),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / CONFIG_FILE).write_text(json.dumps(doc, indent=2))
    stored = torch.load(args.model_dir / WEIGHTS_FILE, map_location="cpu", weights_only=True)
    half = any(v.dtype == torch.float16 for v in stored.values())
    state = model.state_dict()
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    torch.save(state, args.out / WEIGHTS_FILE)
    print(json.dumps(doc["scale_refit"]))


if __name__ == "__main__":
    main()
