"""The trained stages: proxy (short MSE training, rung 0) and full training (rung 1).

Promotion from the proxy rung is MO-ASHA's: the top K by non-dominated rank on the campaign's
objectives (nas.rungs), never a weighted sum. The Pareto front is kept over the full-rung trials.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Protocol

from nas.domain import TrialRecord, TrialState
from nas.funnel.domain import FunnelCandidate, FunnelStageRecord
from nas.funnel.rung_runner import RungEntry, TrialHandler
from nas.pareto import IncrementalFront, compute_front
from nas.rungs import promote
from nas.spec import CampaignSpec
from nas.storage.repository import CampaignStore

PROXY_RUNG = 0
FULL_RUNG = 1


class RunTrials(Protocol):
    def __call__(
        self,
        rung: int,
        entries: list[RungEntry],
        training: dict[str, Any],
        on_finished: TrialHandler | None = None,
    ) -> list[TrialRecord]: ...


def _objective_values(trial: TrialRecord, prefix: str) -> dict[str, Any]:
    values: dict[str, Any] = {f"{prefix}_trial_id": trial.id, f"{prefix}_state": trial.state.value}
    for name, value in (trial.objectives or {}).items():
        values[f"{prefix}_{name}"] = value
    return values


def _closest_to_target(
    spec: CampaignSpec, survivors: Sequence[FunnelCandidate]
) -> list[FunnelCandidate]:
    target = spec.funnel.latency_target_ms if spec.funnel else 0.0
    return sorted(survivors, key=lambda c: abs(float(c.values.get("measured_ms", 0.0)) - target))


def _device(candidate: FunnelCandidate) -> dict[str, float]:
    """The decoder latency the agents measured: it stands for the trial's, whose worker times
    the same graph while other trials train beside it (training changes weights, not the graph).
    """
    measured = candidate.values.get("measured_ms")
    return {} if measured is None else {"decode_ms_12mp": float(measured)}


def proxy_stage(
    spec: CampaignSpec, survivors: Sequence[FunnelCandidate], run_trials: RunTrials
) -> tuple[FunnelStageRecord, list[FunnelCandidate], list[FunnelCandidate]]:
    """Train the survivors closest to the latency target briefly; promote the top K.

    Returns the stage row, every trained candidate (to store) and the promoted ones.
    """
    assert spec.funnel is not None
    proxy = spec.funnel.proxy
    start = time.perf_counter()
    chosen = _closest_to_target(spec, survivors)[: proxy.configs]
    entries = [RungEntry(c.config, c.config_hash, known_metrics=_device(c)) for c in chosen]
    trials = run_trials(PROXY_RUNG, entries, {"steps": proxy.steps, "loss": proxy.loss})
    ranked_on = [o for o in spec.objectives if o.metric in (proxy.promote_by or [o.metric])]
    winners = {t.id for t in promote(trials, ranked_on, keep=proxy.keep)}
    by_hash = {t.config_hash: t for t in trials}
    trained: list[FunnelCandidate] = []
    promoted: list[FunnelCandidate] = []
    for candidate in chosen:
        trial = by_hash.get(candidate.config_hash)
        if trial is None:
            continue
        moved = FunnelCandidate(
            config_hash=candidate.config_hash,
            config=candidate.config,
            stage_reached="proxy" if trial.id in winners else candidate.stage_reached,
            values={**candidate.values, **_objective_values(trial, "proxy")},
            trial_id=trial.id,
        )
        trained.append(moved)
        if trial.id in winners:
            promoted.append(moved)
    details = {
        "trained": len(trials),
        "failed": sum(t.state == TrialState.FAILED for t in trials),
        "steps": proxy.steps,
        "loss": proxy.loss,
        "promoted_trial_ids": sorted(winners),
        "rule": "top K by non-dominated rank, then crowding distance (MO-ASHA)",
        "ranked_on": [o.metric for o in ranked_on],
    }
    seconds = time.perf_counter() - start
    record = FunnelStageRecord("proxy", 3, len(survivors), len(promoted), seconds, details)
    return record, trained, promoted


def full_stage(
    store: CampaignStore,
    campaign_id: int,
    spec: CampaignSpec,
    promoted: Sequence[FunnelCandidate],
    run_trials: RunTrials,
) -> tuple[FunnelStageRecord, list[FunnelCandidate]]:
    """Train the promoted configs with the full budget; keep the front over the full rung."""
    assert spec.funnel is not None
    full = spec.funnel.full
    start = time.perf_counter()
    training = {
        "steps": full.steps or spec.training.steps,
        "loss": full.loss if full.loss is not None else spec.training.loss,
    }
    entries = [
        RungEntry(
            c.config,
            c.config_hash,
            parent_trial_id=c.values.get("proxy_trial_id"),
            known_metrics=_device(c),
        )
        for c in promoted
    ]
    full_trials = [t for t in store.trials(campaign_id) if t.rung == FULL_RUNG]
    front = IncrementalFront(spec.objectives, full_trials)

    def update_front(trial: TrialRecord) -> None:
        update = front.add(trial)
        store.replace_front(campaign_id, update.trial_ids, update.hypervolume, update.n_complete)

    trials = run_trials(FULL_RUNG, entries, training, on_finished=update_front)
    _store_front(
        store, campaign_id, spec, [t for t in store.trials(campaign_id) if t.rung == FULL_RUNG]
    )
    by_hash = {t.config_hash: t for t in trials}
    moved = [
        FunnelCandidate(
            config_hash=c.config_hash,
            config=c.config,
            stage_reached="full"
            if by_hash[c.config_hash].state == TrialState.COMPLETE
            else c.stage_reached,
            values={**c.values, **_objective_values(by_hash[c.config_hash], "full")},
            trial_id=by_hash[c.config_hash].id,
        )
        for c in promoted
        if c.config_hash in by_hash
    ]
    n_out = sum(c.stage_reached == "full" for c in moved)
    details = {"steps": training["steps"], "loss": training["loss"], "trained": len(trials)}
    details["failed"] = len(trials) - n_out
    seconds = time.perf_counter() - start
    return FunnelStageRecord("full", 4, len(promoted), n_out, seconds, details), moved


def _store_front(
    store: CampaignStore, campaign_id: int, spec: CampaignSpec, trials: list[TrialRecord]
) -> None:
    """The front recomputed over every full-rung trial (a rerun may have reused stored ones)."""
    update = compute_front(trials, spec.objectives)
    store.replace_front(campaign_id, update.trial_ids, update.hypervolume, update.n_complete)
