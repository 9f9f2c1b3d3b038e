"""Predict a part's latency on one device and backend from its program's features.

The model is additive over kernels, as nn-Meter's: latency = sum over feature groups of
(non-negative cost per unit) x (units the program runs), plus a fixed overhead. Each unit is a
runtime cost driver (MACs per convolution kind, elements unfolded by im2col, elements through
element-wise ops, op launches), so the fitted costs read as "ns per MAC of depthwise conv" and
extrapolate to wider or deeper configs, where trees would flatten out. Fitting minimises relative
error (what "within +-10%" scores), by non-negative least squares.

Uncertainty has two parts. A bagged ensemble (members fit on bootstrap resamples; the spread of
their predictions as std of log-latency) says how much the fit hinges on which configs were
measured. The leverage of a config (its distance from the measured ones in standardised feature
space, x' (X'X + ridge)^-1 x) times the fit's relative residual says how far it extrapolates: a
config twice as wide as anything measured, or using an op never measured, scores high even when
the bootstrap members happen to agree. The controller sends the configs it is least sure of to
the device next (active learning).
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


# Ridge on the standardised Gram matrix (per sample): keeps collinear features (inputs vs outputs
# of the same convs) from blowing up the leverage, and prices a never-seen feature as far away.
_RIDGE = 1e-3


def _design(x: np.ndarray) -> np.ndarray:
    return np.column_stack([x, np.ones(len(x))])


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
        self._scale: np.ndarray | None = None  # column RMS of the design, for leverage
        self._gram_inverse: np.ndarray | None = None
        self._residual = 0.0  # relative RMS residual of the full fit

    # ---- training ------------------------------------------------------------------------

    def fit(self, samples: Sequence[LatencySample]) -> LatencyPredictor:
        """Fit on stored measurements; needs more samples than priced features."""
        names = cost_features([name for s in samples for name in s.features])
        self.feature_names = names
        return self.fit_matrix(
            names,
            self._matrix([s.features for s in samples]),
            [s.latency_ms for s in samples],
        )

    def fit_matrix(
        self, names: Sequence[str], x: np.ndarray, latencies_ms: Sequence[float] | np.ndarray
    ) -> LatencyPredictor:
        """Fit on a (configs, features) matrix whose columns are all priced (named `names`)."""
        x = np.asarray(x, dtype=float)
        latencies = np.asarray(latencies_ms, dtype=float)
        if x.ndim != 2 or x.shape != (len(latencies), len(names)):
            raise ValueError(
                f"x of shape {x.shape} does not match {len(latencies)} latencies "
                f"and {len(names)} feature names"
            )
        if len(latencies) <= len(names):
            raise ValueError(
                f"need more samples than the {len(names)} priced features, got {len(latencies)}"
            )
        if not np.all(np.isfinite(latencies) & (latencies > 0)):
            raise ValueError("every sample needs a positive, finite latency_ms")
        self.feature_names = list(names)
        rng = np.random.default_rng(self.seed)
        costs = [_fit_costs(x, latencies)]  # member 0 sees every sample: the point estimate
        for _ in range(self.members - 1):
            pick = rng.integers(0, len(x), len(x))
            costs.append(_fit_costs(x[pick], latencies[pick]))
        self._costs = np.stack(costs)
        self._fit_leverage(x, latencies)
        return self

    def _fit_leverage(self, x: np.ndarray, latencies: np.ndarray) -> None:
        """Keep what leverage needs: column scales, the inverse ridge Gram matrix, and the
        relative residual of the full fit."""
        design = _design(x)
        scale = np.sqrt(np.mean(design**2, axis=0))
        self._scale = np.where(scale > 0, scale, 1.0)
        standard = design / self._scale
        gram = standard.T @ standard + _RIDGE * len(x) * np.eye(design.shape[1])
        self._gram_inverse = np.linalg.inv(gram)
        assert self._costs is not None
        relative = design @ self._costs[0] / latencies - 1.0
        dof = max(1, len(latencies) - int(np.count_nonzero(self._costs[0])))
        self._residual = float(np.sqrt(np.sum(relative**2) / dof))

    def _matrix(self, features: Sequence[Mapping[str, float]]) -> np.ndarray:
        return np.array(
            [[float(f.get(name, 0.0)) for name in self.feature_names] for f in features],
            dtype=float,
        ).reshape(len(features), len(self.feature_names))

    def _member_predictions(self, x: np.ndarray) -> np.ndarray:
        if self._costs is None:
            raise RuntimeError("the predictor is not fitted: call fit() or from_json() first")
        if x.ndim != 2 or x.shape[1] != len(self.feature_names):
            raise ValueError(f"x of shape {x.shape} for {len(self.feature_names)} features")
        # A member can price every feature a config uses at zero; floor it to stay positive.
        return np.maximum(_design(x) @ self._costs.T, 1e-6)  # (configs, members)

    # ---- use -----------------------------------------------------------------------------

    def predict(self, features: Sequence[Mapping[str, float]]) -> np.ndarray:
        """Predicted latency in ms per config (the fit on every sample)."""
        return self.predict_matrix(self._matrix(features))

    def uncertainty(self, features: Sequence[Mapping[str, float]]) -> np.ndarray:
        """Relative uncertainty per config (~ std of log-latency; 0.05 ~ +-5%)."""
        return self.uncertainty_matrix(self._matrix(features))

    def predict_matrix(self, x: np.ndarray) -> np.ndarray:
        """Predicted ms per row of a (configs, feature_names) matrix."""
        return self._member_predictions(np.asarray(x, dtype=float))[:, 0]

    def leverage(self, x: np.ndarray) -> np.ndarray:
        """Distance of each row from the measured configs (about p/n inside them, >> 1 far out).

        Depends on the features alone, not on the measured latencies."""
        if self._gram_inverse is None or self._scale is None:
            raise RuntimeError("the predictor has no leverage data: fit it first")
        standard = _design(np.asarray(x, dtype=float)) / self._scale
        return np.einsum("ij,jk,ik->i", standard, self._gram_inverse, standard)

    def uncertainty_matrix(self, x: np.ndarray) -> np.ndarray:
        """sqrt(ensemble spread^2 + (relative residual)^2 x leverage) per row."""
        return self.predict_with_uncertainty(x)[1]

    def predict_with_uncertainty(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(predicted ms, relative uncertainty) per row, the members evaluated once."""
        x = np.asarray(x, dtype=float)
        members = self._member_predictions(x)
        spread = np.std(np.log(members), axis=1)
        if self._gram_inverse is None:
            return members[:, 0], spread
        return members[:, 0], np.sqrt(spread**2 + self._residual**2 * self.leverage(x))

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
            "leverage": None
            if self._gram_inverse is None or self._scale is None
            else {
                "scale": self._scale.tolist(),
                "gram_inverse": self._gram_inverse.tolist(),
                "residual": self._residual,
            },
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
        leverage = data.get("leverage")
        if leverage:
            predictor._scale = np.asarray(leverage["scale"], dtype=float)
            predictor._gram_inverse = np.asarray(leverage["gram_inverse"], dtype=float)
            predictor._residual = float(leverage["residual"])
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
