"""The campaign controller: an ask/tell loop over the storage, the sampler and an executor.

Every state change goes to the database before the next step, so a killed controller resumes from
what is stored: finished trials are kept and never re-run, trials that were running are run again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from nas.domain import CampaignStatus, TrialJob, TrialOutcome, TrialRecord
from nas.errors import InvalidValueError
from nas.executor import Executor
from nas.pareto import IncrementalFront
from nas.samplers import AskTellSampler
from nas.spec import CampaignSpec, parse_spec
from nas.storage.repository import CampaignStore
from search_spaces import get_space

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ControllerEvent:
    kind: str  # "started" | "finished"
    trial: TrialRecord
    n_finished: int
    n_budget: int


EventHandler = Callable[[ControllerEvent], None]


class Controller:
    def __init__(
        self,
        store: CampaignStore,
        campaign_id: int,
        executor: Executor,
        on_event: EventHandler | None = None,
    ) -> None:
        self.store = store
        self.campaign = store.campaign(campaign_id)
        self.spec: CampaignSpec = parse_spec(
            self.campaign.spec, source=f"campaign {self.campaign.name!r}"
        )
        self.space = get_space(self.spec.space)
        self.executor = executor
        self._on_event = on_event or (lambda event: None)
        self._pending: list[TrialRecord] = []
        self._sampler = AskTellSampler(self.spec, self.space)
        self._front = IncrementalFront(self.spec.objectives, [])
        self._n_created = 0
        self._n_finished = 0

    # -- the run loop ----------------------------------------------------------------------------
    def run(self) -> CampaignStatus:
        """Run until the trial budget is spent. Ctrl-C leaves the campaign resumable."""
        cid = self.campaign.id
        self._pending = self.store.requeue_unfinished(cid)
        stored = self.store.trials(cid)
        self._sampler.replay(stored)
        self._front = IncrementalFront(self.spec.objectives, stored)
        # Counted once here, then kept in memory: no COUNT(*) per trial as campaigns grow.
        self._n_created = len(stored)
        self._n_finished = sum(t.state.is_finished for t in stored)
        self.store.set_campaign_status(cid, CampaignStatus.RUNNING)
        try:
            while self._fill_executor() or self.executor.running():
                for outcome in self.executor.wait(timeout=None):
                    self._record(outcome)
        except BaseException:
            # Running trials stay RUNNING in the database; `resume` runs them again.
            self.store.set_campaign_status(cid, CampaignStatus.INTERRUPTED)
            self.executor.shutdown()
            raise
        self.store.set_campaign_status(cid, CampaignStatus.FINISHED)
        return CampaignStatus.FINISHED

    def _fill_executor(self) -> bool:
        """Submit trials while there is room; True if anything was submitted or is queued."""
        submitted = False
        while self.executor.running() < self.executor.capacity:
            trial = self._next_trial()
            if trial is None:
                break
            self._submit(trial)
            submitted = True
        return submitted

    def _next_trial(self) -> TrialRecord | None:
        if self._pending:
            return self._pending.pop(0)
        if self._n_created >= self.spec.budget.trials:
            return None
        config = self._sampler.ask()
        if config is None:
            return None
        self._n_created += 1
        return self.store.create_trial(self.campaign.id, config, self.space.hash(config))

    def _submit(self, trial: TrialRecord) -> None:
        started = self.store.start_trial(trial.id)
        job = TrialJob(
            campaign_id=self.campaign.id,
            trial_id=started.id,
            number=started.number,
            attempt=started.attempts,
            space=self.spec.space,
            config=started.config,
            config_hash=started.config_hash,
            spec=self.campaign.spec,
        )
        self.executor.submit(job)
        self._emit("started", started)

    # -- recording results -----------------------------------------------------------------------
    def _record(self, outcome: TrialOutcome) -> None:
        if self._retry(outcome):
            return
        if outcome.ok:
            trial = self._record_success(outcome)
        else:
            trial = self.store.fail_trial(
                outcome.trial_id, outcome.error or "unknown error", worker=outcome.worker
            )
            log.warning("trial %d failed: %s", trial.number, trial.error)
        self._sampler.tell(trial.config, trial.state, trial.objectives, trial.metrics)
        self._update_front(trial)
        self._emit("finished", trial)

    def _retry(self, outcome: TrialOutcome) -> bool:
        """Queue a trial again when its worker was lost and attempts remain."""
        if outcome.ok or not outcome.retryable:
            return False
        trial = self.store.trial(outcome.trial_id)
        if trial.attempts >= self.spec.budget.max_attempts:
            return False
        log.warning(
            "trial %d lost its worker (attempt %d): running it again: %s",
            trial.number,
            trial.attempts,
            outcome.error,
        )
        self._pending.append(self.store.requeue_trial(trial.id))
        return True

    def _record_success(self, outcome: TrialOutcome) -> TrialRecord:
        missing = [m for m in self.spec.objective_names if m not in outcome.metrics]
        if missing:
            return self.store.fail_trial(
                outcome.trial_id,
                f"worker did not report objective metric(s) {missing}",
                worker=outcome.worker,
            )
        objectives = {m: outcome.metrics[m] for m in self.spec.objective_names}
        feasible = all(
            c.metric in outcome.metrics and c.violation(outcome.metrics[c.metric]) <= 0
            for c in self.spec.constraints
        )
        try:
            return self._complete(outcome, objectives, feasible)
        except (
            InvalidValueError
        ) as exc:  # e.g. a NaN metric: the trial fails, nothing is half-written
            return self.store.fail_trial(
                outcome.trial_id, f"invalid result: {exc}", worker=outcome.worker
            )

    def _complete(
        self, outcome: TrialOutcome, objectives: dict[str, float], feasible: bool
    ) -> TrialRecord:
        return self.store.complete_trial(
            outcome.trial_id,
            metrics=outcome.metrics,
            per_image=outcome.per_image,
            measurements=outcome.measurements,
            artifacts=outcome.artifacts,
            objectives=objectives,
            feasible=feasible,
            worker=outcome.worker,
        )

    def _update_front(self, trial: TrialRecord) -> None:
        update = self._front.add(trial)
        self.store.replace_front(
            self.campaign.id, update.trial_ids, update.hypervolume, update.n_complete
        )

    def _emit(self, kind: str, trial: TrialRecord) -> None:
        if kind == "finished":
            self._n_finished += 1
        self._on_event(ControllerEvent(kind, trial, self._n_finished, self.spec.budget.trials))
