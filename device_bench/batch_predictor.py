"""A latency model for whole config batches: fit on measured configs, predict a million at once.

This is the object the funnel is handed (nas must not import device_bench, so it only sees
`fit(configs, latencies_ms)` and `predict(batch) -> (mean_ms, rel_std)`). Features come from
the configs arithmetically (batch_features), the costs from LatencyPredictor's additive
non-negative fit, and rel_std (ensemble spread plus leverage) ranks where to measure next.

With few measurements the full feature set would be fitted on fewer samples than it has
features, so the model starts from coarse groups (all MACs; then MACs per convolution kind,
element-wise work and op count) and uses every feature once it has enough samples.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from device_bench.batch_features import FEATURE_NAMES, feature_batch
from device_bench.latency_predictor import LatencyPredictor
from search_spaces import SearchSpace
from search_spaces.vectorized import ConfigBatch, batch_from_configs

_MACS = [n for n in FEATURE_NAMES if n.endswith("_mmacs")]
_ELEMENTWISE = [n for n in FEATURE_NAMES if n.endswith("_melems") and not n.startswith("conv_")]
_ELEMENTWISE = [n for n in _ELEMENTWISE if n != "unfolded_melems"]
# (name, member features) per coarse group; a feature in no group is left out of it.
COARSE: tuple[tuple[str, tuple[str, ...]], ...] = (("mmacs", tuple(_MACS)),)
MEDIUM: tuple[tuple[str, tuple[str, ...]], ...] = (
    *((name, (name,)) for name in _MACS),
    ("unfolded_melems", ("unfolded_melems",)),
    ("elementwise_melems", tuple(_ELEMENTWISE)),
    ("ops", ("ops",)),
)
# Samples per fitted cost before a finer feature set is used.
SAMPLES_PER_COST = 3
CHUNK = 50_000  # rows per feature matrix at prediction: bounded memory, cache-sized arrays


def _grouped(x: np.ndarray, groups: Sequence[tuple[str, tuple[str, ...]]]) -> np.ndarray:
    index = {name: i for i, name in enumerate(FEATURE_NAMES)}
    return np.column_stack([x[:, [index[m] for m in members]].sum(axis=1) for _, members in groups])


class BatchLatencyModel:
    """Latency of `part` per `tile` of configs of `space` on one (device, backend)."""

    def __init__(
        self,
        space: SearchSpace,
        *,
        part: str = "decoder",
        tile: int = 512,
        device: str = "this-device",
        backend: str = "onnxruntime",
        members: int = 16,
        seed: int = 0,
    ) -> None:
        self.space = space
        self.part = part
        self.tile = tile
        self.predictor = LatencyPredictor(device, backend, members=members, seed=seed)
        self.groups: tuple[tuple[str, tuple[str, ...]], ...] | None = None  # None: every feature

    def features(self, batch: ConfigBatch) -> np.ndarray:
        """The (rows, features) matrix the fitted predictor reads."""
        _, x = feature_batch(batch, self.part, self.tile)
        return x if self.groups is None else _grouped(x, self.groups)

    def fit(self, configs: Sequence[dict[str, Any]], latencies_ms: Sequence[float]) -> None:
        """Fit on measured configs (at least 3); latencies in ms, positive."""
        if len(configs) != len(latencies_ms):
            raise ValueError(f"{len(configs)} configs but {len(latencies_ms)} latencies")
        if len(configs) < 3:
            raise ValueError(f"need at least 3 measured configs to fit, got {len(configs)}")
        n = len(configs)
        if n > SAMPLES_PER_COST * (len(FEATURE_NAMES) + 1):
            self.groups = None
        elif n > SAMPLES_PER_COST * (len(MEDIUM) + 1):
            self.groups = MEDIUM
        else:
            self.groups = COARSE
        names = FEATURE_NAMES if self.groups is None else tuple(g for g, _ in self.groups)
        x = self.features(batch_from_configs(self.space, configs))
        self.predictor.fit_matrix(names, x, latencies_ms)

    def predict(self, batch: ConfigBatch) -> tuple[np.ndarray, np.ndarray]:
        """(predicted ms, relative std) per row of `batch`."""
        if batch.space.name != self.space.name:
            raise ValueError(f"batch of space {batch.space.name!r}, model of {self.space.name!r}")
        means, spreads = [], []
        for start in range(0, len(batch), CHUNK):
            x = self.features(batch.take(np.arange(start, min(start + CHUNK, len(batch)))))
            mean, spread = self.predictor.predict_with_uncertainty(x)
            means.append(mean)
            spreads.append(spread)
        if not means:
            return np.zeros(0), np.zeros(0)
        return np.concatenate(means), np.concatenate(spreads)

    def predict_configs(self, configs: Sequence[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        return self.predict(batch_from_configs(self.space, configs))
