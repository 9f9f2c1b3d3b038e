"""Training the funnel's configs at one rung (training budget) through an injected executor.

Trials are the campaign's ordinary trials with `rung` set (0: proxy, 1: full) and, above rung 0,
the trial they were promoted from as `parent_trial_id`. A rerun reuses what is stored: a finished
trial of the same config at the same rung is kept, an unfinished one runs again.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nas.domain import TrialJob, TrialOutcome, TrialRecord, TrialState
from nas.errors import InvalidValueError
from nas.executor import Executor
from nas.spec import CampaignSpec
from nas.storage.repository import CampaignStore

log = logging.getLogger(__name__)

TrialHandler = Callable[[TrialRecord], None]


@dataclass(frozen=True)
class RungEntry:
    config: dict[str, Any]
    config_hash: str
    parent_trial_id: int | None = None
    # Metrics known better than the worker can measure them (the agents' decoder latency);
    # they replace the worker's, which are kept with a "_worker" suffix.
    known_metrics: dict[str, float] = field(default_factory=dict)


class RungRunner:
    def __init__(
        self,
        store: CampaignStore,
        campaign_id: int,
        spec: CampaignSpec,
        executor: Executor,
        on_finished: TrialHandler | None = None,
    ) -> None:
        self.store = store
        self.campaign_id = campaign_id
        self.spec = spec
        self.executor = executor
        self._on_finished = on_finished or (lambda trial: None)
        self._known: dict[str, dict[str, float]] = {}

    def run(
        self,
        rung: int,
        entries: list[RungEntry],
        training: dict[str, Any],
        on_finished: TrialHandler | None = None,
    ) -> list[TrialRecord]:
        """Train every entry at `rung` with `training` overriding the spec's training section.

        Returns the finished trials (complete or failed) in the order of `entries`.
        """
        job_spec = self.spec.to_json()
        job_spec["training"] = {**job_spec["training"], **training}
        CampaignSpec.model_validate(job_spec)  # a bad override fails here, not in every worker
        self._known = {e.config_hash: e.known_metrics for e in entries}
        finished, queue = self._stored_or_new(rung, entries)
        pending = deque(queue)
        while pending or self.executor.running():
            while pending and self.executor.running() < self.executor.capacity:
                self._submit(pending.popleft(), job_spec)
            for outcome in self.executor.wait(timeout=None):
                trial = self._record(outcome, pending)
                if trial is not None:
                    finished[trial.config_hash] = trial
                    self._on_finished(trial)
                    if on_finished is not None:
                        on_finished(trial)
        return [finished[e.config_hash] for e in entries if e.config_hash in finished]

    def _stored_or_new(
        self, rung: int, entries: list[RungEntry]
    ) -> tuple[dict[str, TrialRecord], list[TrialRecord]]:
        stored = {t.config_hash: t for t in self.store.trials(self.campaign_id) if t.rung == rung}
        finished: dict[str, TrialRecord] = {}
        queue: list[TrialRecord] = []
        for entry in entries:
            trial = stored.get(entry.config_hash)
            if trial is None:
                trial = self.store.create_trial(
                    self.campaign_id,
                    entry.config,
                    entry.config_hash,
                    rung=rung,
                    parent_trial_id=entry.parent_trial_id,
                )
            elif trial.state.is_finished:
                finished[entry.config_hash] = trial
                continue
            elif trial.state == TrialState.RUNNING:  # its runner died: run it again
                trial = self.store.requeue_trial(trial.id)
            queue.append(trial)
        return finished, queue

    def _submit(self, trial: TrialRecord, job_spec: dict[str, Any]) -> None:
        started = self.store.start_trial(trial.id)
        self.executor.submit(
            TrialJob(
                campaign_id=self.campaign_id,
                trial_id=started.id,
                number=started.number,
                attempt=started.attempts,
                space=self.spec.space,
                config=started.config,
                config_hash=started.config_hash,
                spec=job_spec,
            )
        )

    def _record(self, outcome: TrialOutcome, pending: deque[TrialRecord]) -> TrialRecord | None:
        """Store an outcome; None when the trial lost its worker and was queued again."""
        if not outcome.ok and outcome.retryable:
            trial = self.store.trial(outcome.trial_id)
            if trial.attempts < self.spec.budget.max_attempts:
                log.warning("trial %d lost its worker: running it again", trial.number)
                pending.append(self.store.requeue_trial(trial.id))
                return None
        if not outcome.ok:
            return self.store.fail_trial(
                outcome.trial_id, outcome.error or "unknown error", worker=outcome.worker
            )
        self._merge_known(outcome)
        try:
            objectives, feasible = self.spec.score(outcome.metrics)
        except ValueError as exc:
            return self.store.fail_trial(outcome.trial_id, str(exc))
        try:
            return self.store.complete_trial(
                outcome.trial_id,
                metrics=outcome.metrics,
                per_image=outcome.per_image,
                measurements=outcome.measurements,
                artifacts=outcome.artifacts,
                objectives=objectives,
                feasible=feasible,
                worker=outcome.worker,
                initialisation=outcome.initialisation,
            )
        except InvalidValueError as exc:  # e.g. a NaN metric: the trial fails, nothing half-written
            return self.store.fail_trial(outcome.trial_id, f"invalid result: {exc}")

    def _merge_known(self, outcome: TrialOutcome) -> None:
        known = self._known.get(self.store.trial(outcome.trial_id).config_hash, {})
        for name, value in known.items():
            if name in outcome.metrics:
                outcome.metrics[f"{name}_worker"] = outcome.metrics[name]
            outcome.metrics[name] = value
