"""Train one pico codec for a fixed budget on a folder of photos and write it as a model folder.

The folder loads with `codecnas codec encode/decode/eval`. The shipped reference codec
(benchmarks/results/reference-codec/) is REFERENCE_CONFIG trained on a GPU:

    python benchmarks/train_reference.py --train PHOTOS --device cuda --batch 16 \
        --crop 256 --minutes 7 --steps 1000000 --lmbda 0.01 --lr 3e-4 --warmup 500 \
        --half-weights --out benchmarks/results/reference-codec

The older CPU recipe (MID_CONFIG, a ConvScale/Haar/ReLU config):

    nice -n 5 .venv/bin/python benchmarks/train_reference.py --train ../shared/data/train \
        --minutes 30 --out benchmarks/results/reference-codec
    .venv/bin/codecnas codec eval benchmarks/results/reference-codec ../shared/data/kodak \
        --out benchmarks/results/reference-eval
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

from codec.images import load_images
from codec.training import TrainingConfig, train
from search_spaces import get_space
from search_spaces.model_dir import CONFIG_FILE, WEIGHTS_FILE, load_codec, read_config
from search_spaces.pico import PICO_LIKE_CONFIG, _levels

MID_CONFIG = dict(
    PICO_LIKE_CONFIG,
    **_levels("enc", ((32, 1, 3, 3), (48, 1, 3, 3), (64, 1, 3, 3))),
    **_levels("dec", ((32, 1, 3, 3), (48, 1, 3, 3), (64, 1, 3, 3))),
    latent_channels=128,
    hyper_channels=64,
    channel_groups=1,
    variable_rate=True,
    # With a learned quantization width the context model, which sees the rate through z_hat,
    # learns widths that grow with the rate gain and undo it: a 30-minute run with it spanned
    # only 0.69-0.97 bpp over a 16x lambda range (benchmarks/results/reference_codec.md).
    learned_width=False,
)


# The textbook transforms (Balle 2018: 5x5 strided convs with GDN / IGDN, N=128, M=192) with
# the project's one-shot checkerboard context model and 6 variable-rate points: a config of
# the pico space. GDN is what makes it train fast (DESIGN.md, benchmarks/training_efficiency.py).
REFERENCE_CONFIG = dict(
    PICO_LIKE_CONFIG,
    **_levels("enc", ((128, 0, 4, 3), (128, 0, 4, 3), (128, 0, 4, 3))),
    **_levels("dec", ((128, 0, 4, 3), (128, 0, 4, 3), (128, 0, 4, 3))),
    activation="gdn",
    resampling="conv",
    latent_channels=192,
    hyper_channels=128,
    channel_groups=1,
    learned_width=False,
    variable_rate=True,
)
CONFIGS = {"reference": REFERENCE_CONFIG, "mid": MID_CONFIG}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--train", required=True)
    parser.add_argument("--steps", type=int, default=1000, help="step cap")
    parser.add_argument("--minutes", type=float, default=None, help="wall-clock budget")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--warmup", type=int, default=0, help="learning-rate warm-up steps")
    parser.add_argument("--init", type=Path, default=None, help="model folder to continue from")
    parser.add_argument("--crop", type=int, default=128)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--lmbda", type=float, default=0.013)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--config", choices=sorted(CONFIGS), default="reference")
    parser.add_argument("--entropy-model", default=None, help="override the config's")
    parser.add_argument("--device", default="cpu", help="auto, cpu, cuda or mps")
    parser.add_argument("--log-every", type=int, default=50)
    parser.add_argument(
        "--half-weights", action="store_true", help="store float16 weights (half the file)"
    )
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    torch.backends.cudnn.benchmark = True
    config = dict(CONFIGS[args.config])
    if args.entropy_model:
        config["entropy_model"] = args.entropy_model
    space = get_space("pico")
    model = space.build(config)
    if args.init is not None:  # continue a run: same config, its weights
        config = read_config(args.init)["config"]
        model = load_codec(args.init)
    started = time.perf_counter()
    report = train(
        model,
        load_images(args.train),
        TrainingConfig(
            steps=args.steps,
            batch_size=args.batch,
            crop_size=args.crop,
            learning_rate=args.lr,
            lmbda=args.lmbda,
            seed=0,
            log_every=args.log_every,
            warmup_steps=args.warmup,
            device=args.device,
            max_seconds=None if args.minutes is None else 60 * args.minutes,
        ),
        on_progress=lambda p: print(
            f"step {p.step}/{p.steps} loss {p.loss:.3f} bpp {p.bpp:.3f} psnr {p.psnr:.2f} "
            f"lr {p.learning_rate:.1e} {p.elapsed_s:.0f}s load {os.getloadavg()[0]:.1f}",
            flush=True,
        ),
    )
    args.out.mkdir(parents=True, exist_ok=True)
    doc = {
        "space": "pico",
        "config": config,
        "config_hash": space.hash(config),
        "training": {
            "steps": report.steps_done,
            "seconds": time.perf_counter() - started,
            "steps_per_second": report.steps_done / report.seconds,
            "device": args.device,
            "device_name": _device_name(args.device),
            "batch_size": args.batch,
            "crop_size": args.crop,
            "learning_rate": args.lr,
            "warmup_steps": args.warmup,
            "lmbda": args.lmbda,
            "threads": args.threads,
            "final_loss": report.final_loss,
            "psnr": report.psnr,
            "bpp": report.bpp,
            "source": args.train,
        },
    }
    (args.out / CONFIG_FILE).write_text(json.dumps(doc, indent=2))
    state = model.state_dict()
    if args.half_weights:  # loaded back into float32 parameters; coding tables follow the file
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    torch.save(state, args.out / WEIGHTS_FILE)
    print(json.dumps(doc["training"]))


def _device_name(device: str) -> str:
    if device in ("cuda", "auto") and torch.cuda.is_available():
        return torch.cuda.get_device_name()
    return "cpu"


if __name__ == "__main__":
    main()
