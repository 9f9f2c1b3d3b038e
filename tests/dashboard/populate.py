"""A real-looking campaign written through the storage API, without training anything.

Each synthetic trial gets metrics in the ranges real demo trials show, a decoder measurement on
two devices, per-image metrics and, for the first trials, a reconstruction of each eval image:
the original JPEG-compressed at a quality that falls with the trial number (real, visibly
degraded pixels, stored as PNG as the pipeline stores decoded images).
"""

from __future__ import annotations

import functools
import io
import math
import random
from dataclasses import dataclass

import numpy as np
from PIL import Image

from codec.images import load_images
from nas.domain import ArtifactPayload, CampaignRecord, Measurement, TrialRecord
from nas.pareto import compute_front
from nas.spec import CampaignSpec, parse_spec
from nas.storage import CampaignStore
from tests.conftest import tiny_spec

EVAL_SOURCE = "skimage:chelsea"
DEVICES = ("x86-2core", "iphone-16-pro")
LATENCY_LIMIT_MS = 60_000.0  # the demo spec's constraint on decode_ms_12mp


@dataclass(frozen=True)
class Populated:
    campaign: CampaignRecord
    trials: list[TrialRecord]  # complete and failed trials, in number order


def campaign_spec(name: str, trials: int) -> dict[str, object]:
    spec = tiny_spec(name=name)
    spec["budget"] = {"trials": trials, "parallel": 2, "max_attempts": 1}
    spec["data"] = {"train": "skimage:coffee", "eval": EVAL_SOURCE}
    spec["constraints"] = [{"metric": "decode_ms_12mp", "max": LATENCY_LIMIT_MS}]
    return spec


@functools.lru_cache(maxsize=64)
def _reconstruction(image: str, quality: int) -> tuple[bytes, float]:
    """PNG of the eval image after JPEG at ``quality``, and the JPEG's bpp."""
    pixels = _eval_images()[image]
    jpeg = io.BytesIO()
    Image.fromarray(pixels).save(jpeg, format="JPEG", quality=quality)
    decoded = np.asarray(Image.open(io.BytesIO(jpeg.getvalue())).convert("RGB"))
    png = io.BytesIO()
    Image.fromarray(decoded).save(png, format="PNG", compress_level=1)
    return png.getvalue(), len(jpeg.getvalue()) * 8 / (pixels.shape[0] * pixels.shape[1])


@functools.lru_cache(maxsize=1)
def _eval_images() -> dict[str, np.ndarray]:
    return {image.name: image.pixels for image in load_images(EVAL_SOURCE)}


def _measurement(device: str, decode_ms: float) -> Measurement:
    tile_ms = decode_ms / 63.0  # 63 tiles of 512 px make a 12 MP image
    return Measurement(
        device, "onnxruntime", "decoder", "fp32", 512, 2, 7, tile_ms, tile_ms * 1.1, decode_ms, 50.0
    )


def _complete(
    store: CampaignStore, trial: TrialRecord, rng: random.Random, spec: CampaignSpec, files: bool
) -> TrialRecord:
    """Record synthetic results; faster decoders give worse quality, as on a real front."""
    number = trial.number
    decode_ms = math.exp(rng.uniform(math.log(5_000), math.log(90_000)))
    ratio = 0.9 + 40_000 / decode_ms * rng.uniform(0.08, 0.2)
    quality = max(5, 80 - 5 * (number % 14))
    per_image: dict[str, dict[str, float]] = {}
    config_file = ArtifactPayload("config", "config.json", f'{{"i": {number}}}'.encode())
    artifacts = [config_file] if files else []
    for image_name in _eval_images():
        png, bpp = _reconstruction(image_name, quality)
        per_image[image_name] = {"bpp": bpp, "psnr": 24.0 + quality / 8.0, "ms_ssim": 0.95}
        if files:
            artifacts.append(ArtifactPayload("reconstruction", f"{image_name}.png", png))
    bpp = float(np.mean([m["bpp"] for m in per_image.values()]))
    metrics = {
        "quality_ratio_vs_jpeg": ratio,
        "decode_ms_12mp": decode_ms,
        "decode_ms_tile": decode_ms / 63.0,
        "bpp": bpp,
        "psnr": 24.0 + quality / 8.0,
        "ms_ssim": 0.95,
        "train_seconds": 30.0 + number,
    }
    return store.complete_trial(
        trial.id,
        metrics=metrics,
        per_image=per_image,
        measurements=[
            _measurement(DEVICES[0], decode_ms),
            _measurement(DEVICES[1], decode_ms / 40),
        ],
        artifacts=artifacts,
        objectives={o: metrics[o] for o in spec.objective_names},
        feasible=decode_ms <= LATENCY_LIMIT_MS,
    )


def _new_trial(store: CampaignStore, campaign: CampaignRecord, rng: random.Random) -> TrialRecord:
    config = {"channels": rng.choice([32, 48, 64, 96]), "depth": rng.randint(1, 4)}
    trial = store.create_trial(campaign.id, config, f"hash-{campaign.name}-{rng.random()}")
    return store.start_trial(trial.id, worker="synthetic")


def add_complete_trial(store: CampaignStore, campaign: CampaignRecord, seed: int) -> TrialRecord:
    """One more complete trial, and the front updated, as a running campaign would do."""
    spec = parse_spec(campaign.spec)
    record = _complete(
        store, _new_trial(store, campaign, random.Random(seed)), random.Random(seed), spec, True
    )
    update = compute_front(store.trials(campaign.id), spec.objectives)
    store.replace_front(campaign.id, update.trial_ids, update.hypervolume, update.n_complete)
    return record


def populate(
    store: CampaignStore,
    name: str = "watch",
    n_trials: int = 12,
    n_failed: int = 1,
    n_with_images: int | None = None,  # trials with stored files (config, reconstructions)
    front_every: int = 1,
    seed: int = 0,
) -> Populated:
    """Create a campaign with ``n_trials`` complete trials (some infeasible) and failures."""
    spec = parse_spec(campaign_spec(name, n_trials + n_failed))
    campaign = store.create_campaign(name, spec.to_json())
    rng = random.Random(seed)
    n_with_images = n_trials if n_with_images is None else n_with_images
    done: list[TrialRecord] = []
    for number in range(n_trials + n_failed):
        trial = _new_trial(store, campaign, rng)
        if number >= n_trials:
            done.append(store.fail_trial(trial.id, "diverged: loss is NaN at step 12"))
            continue
        done.append(_complete(store, trial, rng, spec, number < n_with_images))
        if (number + 1) % front_every == 0 or number == n_trials - 1:
            update = compute_front(done, spec.objectives)
            store.replace_front(
                campaign.id, update.trial_ids, update.hypervolume, update.n_complete
            )
    return Populated(store.campaign(campaign.id), done)
