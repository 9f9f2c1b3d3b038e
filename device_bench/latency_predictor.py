"""Predict a part's latency on one device and backend from its program's features.

The model is additive over kernels, as nn-Meter's: latency = sum over feature groups of
(non-negative cost per unit) x (units the program runs), plus a fixed overhead. Each unit is a
runtime cost driver (MACs per convolution kind, elements unfolded by im2col, elements through
element-wise ops, op launches), so the fitted costs read as "ns per MAC of depthwise conv" and
extrapolate to wider or deeper configs, where trees would flatten out. Fitting minimises relative
error (what "within +-10%" scores), by non-negative least squares.

Uncertainty comes from a bagged ensemble: members fit on bootstrap resamples, and the spread of
their predictions (std of log-latency) says how far a config lies from what was measured. The
controller sends the configs it is least sure of to the device next (active learning).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import nnls

from device_bench.features import Features

# Features that count work (a cost each); the rest (config knobs, widths) only describe.
_COST_SUFFIXES = ("_mmacs", "_melems", "_count")
_COST_NAMES = ("ops", "convs")
# Totals that double-count their parts would make the non-negative fit ill-posed.
_EXCLUDED = ("macs_total_mmacs", "costly_elementwise_melems")
FORMAT = "codecnas-latency-predictor/1"


def cost_features(names: Sequence[str]) -> list[str]:
    """The names, among `names`, that the additive model prices."""
    return sorted(
        name
        for name in set(names)
        if name not in _EXCLUDED and (name.endswith(_COST_SUFFIXES) or name in _COST_NAMES)
    )


@dataclass(frozen=True)
class LatencySample:
    features: Features
    latency_ms: float


def share_within(
    predicted: Sequence[float] | np.ndarray,
    measured: Sequence[float] | np.ndarray,
    tolerance: float = 0.10,
) -> float:
    """nn-Meter's accuracy: the share of configs predicted within +-tolerance of measured."""
    predicted, measured = np.asarray(predicted, float), np.asarray(measured, float)
    if predicted.shape != measured.shape or predicted.size == 0:
        raise ValueError(f"need equal, non-empty shapes, got {predicted.shape}, {measured.shape}")
    if np.any(measured <= 0):
        raise ValueError("measured latencies must be positive")
    return float(np.mean(np.abs(predicted / measured - 1.0) <= tolerance))


def _fit_costs(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Non-negative costs (last entry: fixed overhead) minimising sum((pred / y - 1)^2)."""
    design = np.column_stack([x, np.ones(len(x))]) / y[:, None]
    costs, _ = nnls(design, np.ones(len(y)), maxiter=50 * design.shape[1])
    return np.asarray(costs)


class LatencyPredictor:
    """Latency of one part on one (device, backend), from Features."""

    def __init__(self, device: str, backend: str, *, members: int = 16, seed: int = 0) -> None:
        if members < 1:
            raise ValueError(f"members must be >= 1, got {members}")
        self.device = device
        self.backend = backend
        self.members = members
        self.seed = seed
        self.feature_names: list[str] = []
        self._costs: np.ndarray | None = None  # (members, features + 1)

    # ---- training ------------------------------------------------------------------------

    def fit(self, samples: Sequence[LatencySample]) -> LatencyPredictor:
        """Fit on stored measurements; needs more samples than priced features."""
        names = cost_features([name for s in samples for name in s.features])
        if len(samples) <= len(names):
            raise ValueError(
                f"need more samples than the {len(names)} priced features, got {len(samples)}"
            )
        latencies = np.array([s.latency_ms for s in samples], dtype=float)
        if not np.all(np.isfinite(latencies) & (latencies > 0)):
            raise ValueError("every sample needs a positive, finite latency_ms")
        self.feature_names = names
        x = self._matrix([s.features for s in samples])
        rng = np.random.default_rng(self.seed)
        costs = [_fit_costs(x, latencies)]  # member 0 sees every sample: the point estimate
        for _ in range(self.members - 1):
            pick = rng.integers(0, len(x), len(x))
            costs.append(_fit_costs(x[pick], latencies[pick]))
        self._costs = np.stack(costs)
        return self

    def _matrix(self, features: Sequence[Mapping[str, float]]) -> np.ndarray:
        return np.array(
            [[float(f.get(name, 0.0)) for name in self.feature_names] for f in features],
            dtype=float,
        ).reshape(len(features), len(self.feature_names))

    def _member_predictions(self, features: Sequence[Mapping[str, float]]) -> np.ndarray:
        if self._costs is None:
            raise RuntimeError("the predictor is not fitted: call fit() or from_json() first")
        x = self._matrix(features)
        design = np.column_stack([x, np.ones(len(x))])
        # A member can price every feature a config uses at zero; floor it to stay positive.
        return np.maximum(design @ self._costs.T, 1e-6)  # (configs, members)

    # ---- use -----------------------------------------------------------------------------

    def predict(self, features: Sequence[Mapping[str, float]]) -> np.ndarray:
        """Predicted latency in ms per config (the fit on every sample)."""
        return self._member_predictions(features)[:, 0]

    def uncertainty(self, features: Sequence[Mapping[str, float]]) -> np.ndarray:
        """Relative spread of the ensemble per config (std of log-latency; 0.05 ~ +-5%)."""
        return np.std(np.log(self._member_predictions(features)), axis=1)

    def costs(self) -> dict[str, float]:
        """The fitted cost per unit of each priced feature, and the fixed overhead (ms)."""
        if self._costs is None:
            raise RuntimeError("the predictor is not fitted")
        return dict(zip([*self.feature_names, "overhead"], self._costs[0].tolist(), strict=True))

    # ---- storage -------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        if self._costs is None:
            raise RuntimeError("the predictor is not fitted")
        return {
            "format": FORMAT,
            "device": self.device,
            "backend": self.backend,
            "seed": self.seed,
            "feature_names": self.feature_names,
            "costs": self._costs.tolist(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LatencyPredictor:
        if data.get("format") != FORMAT:
            raise ValueError(f"predictor format is {data.get('format')!r}, expected {FORMAT!r}")
        costs = np.asarray(data["costs"], dtype=float)
        names = list(data["feature_names"])
        if costs.ndim != 2 or costs.shape[1] != len(names) + 1:
            raise ValueError(f"costs of shape {costs.shape} do not fit {len(names)} features")
        predictor = cls(data["device"], data["backend"], members=len(costs), seed=data["seed"])
        predictor.feature_names = names
        predictor._costs = costs
        return predictor


class ConfigLatencyModel:
    """A predictor applied to configs of a space: features computed once per config."""

    def __init__(
        self,
        predictor: LatencyPredictor,
        featurize: Callable[[Mapping[str, Any]], Features],
        key: Callable[[Mapping[str, Any]], str],
    ) -> None:
        self.predictor = predictor
        self._featurize = featurize
        self._key = key
        self._cache: dict[str, Features] = {}

    def features(self, config: Mapping[str, Any]) -> Features:
        key = self._key(config)
        if key not in self._cache:
            self._cache[key] = self._featurize(config)
        return self._cache[key]

    def predict(self, config: Mapping[str, Any]) -> float:
        return float(self.predictor.predict([self.features(config)])[0])

    def uncertainty(self, config: Mapping[str, Any]) -> float:
        return float(self.predictor.uncertainty([self.features(config)])[0])

    def most_uncertain(
        self, configs: Sequence[Mapping[str, Any]], count: int
    ) -> list[Mapping[str, Any]]:
        """The `count` configs the predictor is least sure of: measure these next."""
        if count < 0:
            raise ValueError(f"count must be >= 0, got {count}")
        spread = self.predictor.uncertainty([self.features(c) for c in configs])
        order = np.argsort(-spread, kind="stable")[:count]
        return [configs[i] for i in order]
