"""The cheap stages: sample and screen by MACs (vectorised), predict latency, measure to confirm.

Each stage is a function of its inputs and its injected components; it returns its survivors and
its stage row. Storage is the runner's business (runner.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from nas.funnel.domain import FunnelCandidate, FunnelStageRecord, JsonDict
from nas.funnel.protocols import LatencyModel, Measurer
from nas.funnel.spec import FunnelSpec
from nas.spec import CampaignSpec, ScreenSpec
from search_spaces.config_batch import ConfigBatch, batch_from_configs, sample_batch
from search_spaces.space import SearchSpace
from search_spaces.vectorized import macs_batch

# Sampling in chunks bounds the memory of a 10M-config screen to one chunk's MACs arrays.
_CHUNK = 250_000

Log = Callable[[str], None]


def _quiet(_message: str) -> None:
    pass


def _in_band(values: np.ndarray, low: float | None, high: float | None) -> np.ndarray:
    mask = np.ones(len(values), dtype=bool)
    if low is not None:
        mask &= values >= low
    if high is not None:
        mask &= values <= high
    return mask


def macs_mask(
    screen: ScreenSpec, encoder_kmacs: np.ndarray, decoder_kmacs: np.ndarray
) -> np.ndarray:
    """Rows inside the spec's MACs-per-pixel band (the vectorised `ScreenSpec.admits`)."""
    return _in_band(decoder_kmacs, screen.decoder_kmacs_min, screen.decoder_kmacs_max) & _in_band(
        encoder_kmacs, screen.encoder_kmacs_min, screen.encoder_kmacs_max
    )


def _concatenate(space: SearchSpace, parts: list[ConfigBatch]) -> ConfigBatch:
    names = space.param_names
    return ConfigBatch(space, {n: np.concatenate([p.columns[n] for p in parts]) for n in names})


def screen_stage(space: SearchSpace, spec: CampaignSpec) -> tuple[ConfigBatch, FunnelStageRecord]:
    """Sample `funnel.configs` configs (seeded: a rerun gives the same ones), keep the MACs band."""
    funnel = _funnel(spec)
    start = time.perf_counter()
    rng = np.random.default_rng(funnel.seed)
    kept: list[ConfigBatch] = []
    for offset in range(0, funnel.configs, _CHUNK):
        batch = sample_batch(space, min(_CHUNK, funnel.configs - offset), rng, spec.fixed)
        encoder, decoder = macs_batch(space, batch)
        kept.append(batch.take(macs_mask(spec.screen, encoder, decoder)))
    survivors = _concatenate(space, kept)
    seconds = time.perf_counter() - start
    details = {"band": spec.screen.model_dump(), "configs_per_second": funnel.configs / seconds}
    record = FunnelStageRecord("screen", 0, funnel.configs, len(survivors), seconds, details)
    return survivors, record


@dataclass(frozen=True)
class PredictOutcome:
    pool: list[FunnelCandidate]
    bootstrap: list[JsonDict]  # [{config_hash, config, measured_ms}]: what the model was fit on
    record: FunnelStageRecord


def predict_stage(
    space: SearchSpace,
    spec: CampaignSpec,
    screened: ConfigBatch,
    model: LatencyModel,
    measurer: Measurer,
    log: Log = _quiet,
) -> PredictOutcome:
    """Fit the model on a random bootstrap of measured configs, keep those predicted in band."""
    funnel = _funnel(spec)
    start = time.perf_counter()
    rng = np.random.default_rng(funnel.seed + 1)
    size = min(funnel.measure.bootstrap, len(screened))
    picked = screened.configs(rng.choice(len(screened), size=size, replace=False))
    log(f"predict: measuring {size} random in-band configs to fit the latency model")
    measured = measurer.measure(picked)
    bootstrap = [
        {"config_hash": key, "config": config, "measured_ms": measured[key]}
        for config in picked
        if (key := space.hash(config)) in measured
    ]
    _fit(model, bootstrap)
    low, high = funnel.band_ms
    unique = screened.unique()
    mean, rel_std = model.predict(unique)
    inside = np.flatnonzero((mean >= low) & (mean <= high))
    pool = _candidates(space, unique, inside, mean, rel_std)
    spread = np.percentile(mean, [1, 50, 99]).tolist() if len(mean) else []
    if not pool:
        log(
            f"predict: no config is predicted within {low:.4g}-{high:.4g} ms (predicted 1%/50%/"
            f"99%: {', '.join(f'{v:.4g}' for v in spread)}): move the target or widen the band"
        )
    details: JsonDict = {
        "band_ms": [low, high],
        "predicted_ms_p1_p50_p99": spread,
        "duplicates_dropped": len(screened) - len(unique),
        "bootstrap_measured": len(bootstrap),
        "bootstrap_failed": size - len(bootstrap),
        "bootstrap": bootstrap,
    }
    seconds = time.perf_counter() - start
    record = FunnelStageRecord("predict", 1, len(screened), len(pool), seconds, details)
    return PredictOutcome(pool, bootstrap, record)


def _candidates(
    space: SearchSpace, batch: ConfigBatch, rows: np.ndarray, mean: np.ndarray, rel_std: np.ndarray
) -> list[FunnelCandidate]:
    chosen = batch.take(rows)
    encoder, decoder = macs_batch(space, chosen)
    configs = chosen.configs()
    return [
        FunnelCandidate(
            config_hash=space.hash(config),
            config=config,
            stage_reached="predict",
            values={
                "encoder_kmacs": float(encoder[i]),
                "decoder_kmacs": float(decoder[i]),
                "predicted_ms": float(mean[row]),
                "predicted_rel_std": float(rel_std[row]),
            },
        )
        for i, (row, config) in enumerate(zip(rows, configs, strict=True))
    ]


def _fit(model: LatencyModel, measurements: list[JsonDict]) -> None:
    if len(measurements) < 3:
        raise RuntimeError(
            f"the latency model needs at least 3 measured configs, got {len(measurements)}: "
            "are the benchmark agents running?"
        )
    model.fit([m["config"] for m in measurements], [m["measured_ms"] for m in measurements])


@dataclass
class MeasureOutcome:
    survivors: list[FunnelCandidate]
    measured: list[FunnelCandidate]  # every config measured here, survivors included
    record: FunnelStageRecord
    rounds: list[JsonDict] = field(default_factory=list)


def measure_stage(
    space: SearchSpace,
    spec: CampaignSpec,
    pool: list[FunnelCandidate],
    bootstrap: list[JsonDict],
    model: LatencyModel,
    measurer: Measurer,
    log: Log = _quiet,
) -> MeasureOutcome:
    """Active learning: measure where the model is least sure among the configs it puts in band.

    Each round refits the model on every measurement so far, predicts the pool again, and sends
    the `batch` predicted-in-band configs of highest relative std to the device.
    """
    funnel = _funnel(spec)
    start = time.perf_counter()
    low, high = funnel.band_ms
    batch = batch_from_configs(space, [c.config for c in pool]) if pool else None
    known: list[JsonDict] = list(bootstrap)
    # Bootstrap configs the model put in band are measured already: they may survive, and are
    # not measured again.
    by_hash = {c.config_hash: i for i, c in enumerate(pool)}
    measured = {
        by_hash[m["config_hash"]]: m["measured_ms"]
        for m in bootstrap
        if m["config_hash"] in by_hash
    }
    tried: set[int] = set()
    rounds: list[JsonDict] = []
    while batch is not None and len(tried) < funnel.measure.configs:
        _fit(model, known)
        mean, rel_std = model.predict(batch)
        eligible = np.flatnonzero((mean >= low) & (mean <= high))
        eligible = np.array(
            [i for i in eligible if int(i) not in tried and int(i) not in measured], dtype=int
        )
        if len(eligible) == 0:
            break
        room = min(funnel.measure.batch, funnel.measure.configs - len(tried))
        chosen = eligible[np.argsort(-rel_std[eligible], kind="stable")[:room]]
        results = measurer.measure([pool[int(i)].config for i in chosen])
        tried.update(int(i) for i in chosen)
        hits = _record_round(pool, chosen, mean, results, measured, known)
        rounds.append(
            {
                "round": len(rounds),
                "measured": len(chosen),
                "failed": len(chosen) - sum(pool[int(i)].config_hash in results for i in chosen),
                "mean_rel_std": float(np.mean(rel_std[chosen])),
                "within_10pct_before_refit": hits,
                "in_band": sum(low <= results[c] <= high for c in results),
            }
        )
        log(f"measure: round {len(rounds)}: {len(chosen)} configs, {rounds[-1]['in_band']} in band")
    return _measure_outcome(pool, measured, (low, high), rounds, tried, start)


def _record_round(
    pool: list[FunnelCandidate],
    chosen: np.ndarray,
    mean: np.ndarray,
    results: dict[str, float],
    measured: dict[int, float],
    known: list[JsonDict],
) -> float | None:
    """Keep the round's measurements; returns the share predicted within +-10% (None if none)."""
    errors = []
    for i in (int(i) for i in chosen):
        candidate = pool[i]
        if candidate.config_hash not in results:
            continue
        ms = results[candidate.config_hash]
        measured[i] = ms
        known.append(
            {"config_hash": candidate.config_hash, "config": candidate.config, "measured_ms": ms}
        )
        errors.append(abs(mean[i] / ms - 1.0))
    return float(np.mean(np.asarray(errors) <= 0.10)) if errors else None


def _measure_outcome(
    pool: list[FunnelCandidate],
    measured: dict[int, float],
    band: tuple[float, float],
    rounds: list[JsonDict],
    tried: set[int],
    start: float,
) -> MeasureOutcome:
    low, high = band
    updated: list[FunnelCandidate] = []
    survivors: list[FunnelCandidate] = []
    for i, ms in measured.items():
        fits = low <= ms <= high
        candidate = FunnelCandidate(
            config_hash=pool[i].config_hash,
            config=pool[i].config,
            stage_reached="measure" if fits else "predict",
            values={**pool[i].values, "measured_ms": ms},
        )
        updated.append(candidate)
        if fits:
            survivors.append(candidate)
    details: JsonDict = {
        "band_ms": [low, high],
        "measured": len(tried),
        "failed": len(tried - set(measured)),
        "from_bootstrap": len(set(measured) - tried),
    }
    details["rounds"] = rounds
    seconds = time.perf_counter() - start
    record = FunnelStageRecord("measure", 2, len(pool), len(survivors), seconds, details)
    return MeasureOutcome(survivors, updated, record, rounds)


def _funnel(spec: CampaignSpec) -> FunnelSpec:
    if spec.funnel is None:
        raise ValueError(f"campaign {spec.name!r} has no 'funnel:' section (mode {spec.mode!r})")
    return spec.funnel
