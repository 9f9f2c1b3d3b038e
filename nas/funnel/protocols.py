"""What the funnel is given (EvolutionFinder style): a latency model and a device measurer.

`nas` never imports `device_bench` or `workers`: the composition root (codecnas/funnel_running.py)
wires the real ones, tests may wire their own.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from search_spaces.config_batch import ConfigBatch
from search_spaces.space import Config


class LatencyModel(Protocol):
    """Predicts a config's decoder latency (the unit of `funnel.latency_target_ms`)."""

    def fit(self, configs: list[Config], latencies_ms: list[float]) -> None: ...

    def predict(self, batch: ConfigBatch) -> tuple[np.ndarray, np.ndarray]:
        """Mean latency (ms) and relative standard deviation for every row of the batch."""
        ...


class Measurer(Protocol):
    """Measures configs on the device: latency (ms) by config hash; failures are left out."""

    def measure(self, configs: list[Config]) -> dict[str, float]: ...
