"""One trial from config to results: train, evaluate with real bitstreams, export, measure.

Pure Python and torch; Ray only decides where this runs (see ray_executor.py).
"""

from __future__ import annotations

import io
import json
import os
import socket
import time
import traceback
from functools import lru_cache

import numpy as np
import torch
from PIL import Image

from codec.evaluation import EVAL_MIN_SIDE, evaluate
from codec.images import NamedImage, load_images
from codec.losses import LossWeights
from codec.model import LearnedCodec
from codec.training import TrainingConfig, TrainingDiverged, train
from device_bench.onnx_export import decoder_feeds, export_decoder
from device_bench.onnxruntime_backend import OnnxRuntimeBackend
from nas.domain import ArtifactPayload, Measurement, TrialJob, TrialOutcome
from nas.spec import CampaignSpec
from search_spaces import get_space
from workers.initialisation import initialise


@lru_cache(maxsize=8)
def _images(source: str, min_side: int = 1) -> tuple[NamedImage, ...]:
    """Images are loaded once per worker process and reused by every trial it runs."""
    return tuple(load_images(source, min_side))


def _threads(spec: CampaignSpec) -> int:
    # Two single-threaded trials side by side beat one trial on two threads (DESIGN.md).
    return max(1, int(spec.cluster.cpus_per_trial))


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def training_device(spec: CampaignSpec, has_gpu: bool) -> str:
    """The device a trial trains on: "auto" takes a GPU only when the trial was given one.

    Ray 2.60 no longer hides GPUs from tasks that asked for none (CUDA_VISIBLE_DEVICES is left
    alone), so a CPU trial would otherwise grab a GPU Ray may have given to another trial.
    """
    device = spec.training.device
    return "cpu" if device == "auto" and not has_gpu else device


def _training_config(
    spec: CampaignSpec, job: TrialJob, size_multiple: int, has_gpu: bool
) -> TrainingConfig:
    t = spec.training
    loss = LossWeights.from_mapping(t.loss)
    # Deep configs need crops that survive all their down-samplings: round the crop up (twice
    # the multiple with a tiling loss, which trains on a 2x2 tile layout).
    multiple = size_multiple * (2 if loss.tiling > 0 else 1)
    crop = -(-t.crop_size // multiple) * multiple
    return TrainingConfig(
        steps=t.steps,
        batch_size=t.batch_size,
        crop_size=crop,
        learning_rate=t.learning_rate,
        lmbda=t.lmbda,
        seed=t.seed + job.number,
        loss=loss,
        text_fraction=t.text_fraction,
        warmup_steps=t.warmup_steps,
        device=training_device(spec, has_gpu),
        mixed_precision=t.mixed_precision,
    )


def _measure_decoder(
    model: LearnedCodec, spec: CampaignSpec, threads: int
) -> tuple[Measurement, bytes]:
    b = spec.benchmark
    onnx_bytes = export_decoder(model, tile=b.tile)
    backend = OnnxRuntimeBackend(threads=threads)
    result = backend.benchmark(
        onnx_bytes,
        decoder_feeds(model, tile=b.tile),
        part="decoder",
        tile=b.tile,
        warmup=b.warmup,
        runs=b.runs,
    )
    measurement = Measurement(
        device=result.device,
        backend=result.backend,
        part=result.part,
        precision=result.precision,
        tile=result.tile,
        warmup=result.warmup,
        runs=result.runs,
        p50_ms=result.p50_ms,
        p90_ms=result.p90_ms,
        estimate_12mp_ms=result.estimate_12mp_ms,
        cold_ms=result.cold_ms,
    )
    return measurement, onnx_bytes


def _png_artifact(image_name: str, pixels: np.ndarray) -> ArtifactPayload:
    """A decoded eval image, for the dashboard's side-by-side viewer (lossless PNG)."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", optimize=False, compress_level=6)
    return ArtifactPayload("reconstruction", f"{image_name}.png", buffer.getvalue())


def _checkpoint(model: torch.nn.Module) -> bytes:
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getvalue()


def run_trial(job: TrialJob, has_gpu: bool | None = None) -> TrialOutcome:
    """Run one trial; any exception becomes a failed outcome carrying its reason.

    `has_gpu`: whether a GPU was reserved for this trial (Ray says so on a worker); None, as
    in-process: the spec's cluster.gpus_per_trial > 0.
    """
    start = time.perf_counter()
    try:
        outcome = _run(job, has_gpu)
    except TrainingDiverged as exc:
        outcome = TrialOutcome(trial_id=job.trial_id, ok=False, error=f"diverged: {exc}")
    except Exception as exc:  # noqa: BLE001 - any crash of a trial becomes its recorded reason
        tail = "".join(traceback.format_exception(exc)[-3:]).strip()
        outcome = TrialOutcome(
            trial_id=job.trial_id, ok=False, error=f"{type(exc).__name__}: {exc}\n{tail}"
        )
    outcome.worker = _worker_name()
    outcome.seconds = time.perf_counter() - start
    return outcome


def _run(job: TrialJob, has_gpu: bool | None) -> TrialOutcome:
    started = time.perf_counter()
    spec = CampaignSpec.model_validate(job.spec)
    if has_gpu is None:
        has_gpu = spec.cluster.gpus_per_trial > 0
    threads = _threads(spec)
    torch.set_num_threads(threads)
    torch.manual_seed(spec.training.seed + job.number)
    model = get_space(job.space).build(job.config)
    initialisation = initialise(model, job.init)  # inheritance: start from trained weights

    t0 = time.perf_counter()
    config = _training_config(spec, job, model.size_multiple, has_gpu)
    report = train(model, list(_images(spec.data.train)), config)
    train_seconds = time.perf_counter() - t0

    reconstructions: list[ArtifactPayload] = []
    evaluation = evaluate(
        model,
        list(_images(spec.data.eval, EVAL_MIN_SIDE)),
        quality_metric=spec.training.quality_metric,
        anchor_cache_dir=os.environ.get("CODECNAS_ANCHOR_CACHE"),
        anchor=spec.training.anchor,
        on_decoded=lambda name, pixels: reconstructions.append(_png_artifact(name, pixels)),
    )
    measurement, onnx_bytes = _measure_decoder(model, spec, threads)

    metrics = dict(evaluation.summary)
    metrics.update(
        {
            "decode_ms_12mp": measurement.estimate_12mp_ms,
            "decode_ms_tile": measurement.p50_ms,
            "train_seconds": train_seconds,
            "train_final_loss": report.final_loss,
        }
    )
    metrics["trial_seconds"] = time.perf_counter() - started  # busy time of the worker
    config_doc = {"space": job.space, "config": job.config, "config_hash": job.config_hash}
    artifacts = [
        ArtifactPayload("checkpoint", "model.pt", _checkpoint(model)),
        ArtifactPayload("onnx_decoder", "decoder.onnx", onnx_bytes),
        ArtifactPayload("config", "config.json", json.dumps(config_doc, indent=2).encode()),
        *reconstructions,
    ]
    return TrialOutcome(
        trial_id=job.trial_id,
        ok=True,
        metrics=metrics,
        per_image=evaluation.per_image,
        measurements=[measurement],
        artifacts=artifacts,
        initialisation=initialisation,
    )
