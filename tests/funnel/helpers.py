"""Small real components for funnel tests: an in-process ONNX Runtime measurer, a MACs model."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from device_bench.onnx_export import decoder_feeds, export_decoder
from device_bench.onnxruntime_backend import OnnxRuntimeBackend
from search_spaces.config_batch import ConfigBatch
from search_spaces.space import Config, SearchSpace
from search_spaces.vectorized import batch_from_configs, macs_batch
from tests.conftest import tiny_spec


class OrtMeasurer:
    """Exports each decoder and times it on ONNX Runtime in this process (12 MP estimate)."""

    def __init__(self, space: SearchSpace, tile: int = 64) -> None:
        self.space, self.tile = space, tile
        self.backend = OnnxRuntimeBackend(threads=1, clock="cpu")  # robust to a loaded machine
        self.calls: list[list[str]] = []

    def measure(self, configs: list[Config]) -> dict[str, float]:
        results = {}
        for config in configs:
            torch.manual_seed(0)
            model = self.space.build(config)
            result = self.backend.benchmark(
                export_decoder(model, tile=self.tile),
                decoder_feeds(model, tile=self.tile),
                part="decoder",
                tile=self.tile,
                warmup=1,
                runs=2,
            )
            results[self.space.hash(config)] = result.estimate_12mp_ms
        self.calls.append(list(results))
        return results


class MacsLatencyModel:
    """log(ms) linear in log(decoder kMACs); the spread grows away from the measured configs."""

    def __init__(self, space: SearchSpace) -> None:
        self.space = space
        self.coef = np.array([0.0, 0.0])
        self.seen = np.array([0.0])
        self.fits = 0

    def fit(self, configs: list[Config], latencies_ms: list[float]) -> None:
        _, decoder = macs_batch(self.space, batch_from_configs(self.space, configs))
        x, y = np.log(decoder), np.log(np.asarray(latencies_ms))
        self.coef = np.polyfit(x, y, 1) if len(set(x)) > 1 else np.array([0.0, y.mean()])
        self.seen = x
        self.fits += 1

    def predict(self, batch: ConfigBatch) -> tuple[np.ndarray, np.ndarray]:
        _, decoder = macs_batch(self.space, batch)
        x = np.log(decoder)
        distance = np.min(np.abs(x[:, None] - self.seen[None, :]), axis=1)
        return np.exp(np.polyval(self.coef, x)), 0.05 + distance


def funnel_spec(target_ms: float, **overrides: Any) -> dict[str, Any]:
    """A tiny funnel on the basic space: seconds per stage."""
    spec = tiny_spec(
        name="tiny-funnel",
        mode="funnel",
        screen={"decoder_kmacs_max": 12},
        budget={"trials": 4, "parallel": 1, "max_attempts": 1},
        funnel={
            "configs": 2000,
            "seed": 3,
            "latency_target_ms": target_ms,
            "tolerance": 0.9,  # timings on a shared machine: the band must be met
            "measure": {"bootstrap": 3, "configs": 4, "batch": 2, "timeout_s": 120},
            "proxy": {"configs": 2, "steps": 4, "keep": 1},
            "full": {"steps": 8},
        },
    )
    spec.update(overrides)
    return spec
