"""The campaign controller: an ask/tell loop over the storage, the sampler and an executor.

Every state change goes to the database before the next step, so a killed controller resumes from
what is stored: finished trials are kept and never re-run, trials that were running are run again.

Several controllers may run one campaign (a standby, or two started by mistake): each trial they
start is leased (nas/storage/leases.py) and renewed by a heartbeat; a trial is only taken when it
is pending or its lease has expired, the budget and config uniqueness are checked in the same
transaction that creates a trial, and results for a trial whose lease was lost are refused. Each
controller learns the others' trials from storage before it asks its sampler for a new config.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from nas.controller_sync import CampaignView
from nas.domain import CampaignStatus, TrialJob, TrialOutcome, TrialRecord
from nas.errors import CodecnasError, DuplicateError, InvalidValueError, StateConflictError
from nas.executor import Executor
from nas.inheritance import InitChooser
from nas.lease_keeper import (
    LeaseHeartbeat,
    default_lease_seconds,
    is_dead_local_owner,
    new_owner_id,
)
from nas.spec import CampaignSpec, parse_spec
from nas.storage.repository import CampaignStore
from search_spaces import get_space

log = logging.getLogger(__name__)

_MAX_DUPLICATE_CREATES = 10


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
        *,
        lease_seconds: float | None = None,
        owner: str | None = None,
    ) -> None:
        self.store = store
        self.campaign = store.campaign(campaign_id)
        self.spec: CampaignSpec = parse_spec(
            self.campaign.spec, source=f"campaign {self.campaign.name!r}"
        )
        self.space = get_space(self.spec.space)
        self.executor = executor
        self.owner = owner or new_owner_id()
        self.lease_seconds = lease_seconds or default_lease_seconds()
        self._poll_seconds = min(self.lease_seconds / 3, 2.0)
        self._on_event = on_event or (lambda event: None)
        self._view = CampaignView(store, self.campaign.id, self.spec, self.space)
        self._inits = InitChooser(store, self.campaign.id, self.space, self.spec.training)
        self._exhausted = False

    # -- the run loop ----------------------------------------------------------------------------
    def run(self) -> CampaignStatus:
        """Run until the trial budget is spent. Ctrl-C leaves the campaign resumable."""
        cid = self.campaign.id
        dead = [o for o in self.store.lease_owners(cid) if is_dead_local_owner(o)]
        if dead:
            log.warning("taking over the trials of dead controller(s) %s", dead)
            self.store.expire_leases(cid, dead)
        self._view.load()
        self.store.set_campaign_status(cid, CampaignStatus.RUNNING)
        renew = lambda: self.store.renew_leases(self.owner, self.lease_seconds, cid)  # noqa: E731
        try:
            with LeaseHeartbeat(renew, interval=self.lease_seconds / 3):
                self._loop()
        except BaseException:
            # Running trials stay RUNNING in the database, their leases ended: `resume` (or
            # another controller) runs them again at once.
            self.executor.shutdown()
            try:
                self.store.expire_leases(cid, [self.owner])
                self.store.set_campaign_status(cid, CampaignStatus.INTERRUPTED)
            except CodecnasError as exc:  # the database is gone too: leases expire on their own
                log.warning("could not mark campaign %d interrupted: %s", cid, exc)
            raise
        self._view.finish()
        self.store.set_campaign_status(cid, CampaignStatus.FINISHED)
        return CampaignStatus.FINISHED

    def _loop(self) -> None:
        while True:
            self._fill_executor()
            if self.executor.running():
                for outcome in self.executor.wait(timeout=None):
                    self._record(outcome)
                continue
            if self.store.count_unfinished(self.campaign.id) == 0:
                return  # budget spent (or space exhausted) and nobody runs anything
            # Other controllers run the rest: wait for them, or for their leases to expire.
            time.sleep(self._poll_seconds)
            self._view.sync(self._sampler_tell)

    def _fill_executor(self) -> None:
        while self.executor.running() < self.executor.capacity:
            trial = self._next_trial()
            if trial is None:
                return
            self._submit(trial)

    def _next_trial(self) -> TrialRecord | None:
        while (claimed := self._claim()) is not None:
            if claimed.attempts <= self.spec.budget.max_attempts:
                return claimed
            self._finish_failed(claimed, f"gave up after {claimed.attempts - 1} attempt(s)")
        for _ in range(_MAX_DUPLICATE_CREATES):
            if self._exhausted or self._view.n_created >= self.spec.budget.trials:
                return None
            self._view.sync(self._sampler_tell)
            config = self._view.sampler.ask()
            if config is None:
                self._exhausted = True
                return None
            try:
                trial = self.store.create_leased_trial(
                    self.campaign.id,
                    config,
                    self.space.hash(config),
                    owner=self.owner,
                    lease_seconds=self.lease_seconds,
                    budget=self.spec.budget.trials,
                )
            except DuplicateError:
                continue  # another controller took this config just now; the sync learns it
            if trial is None:
                self._view.n_created = self.spec.budget.trials
                return None
            self._view.mine(trial)
            return trial
        return None

    def _claim(self) -> TrialRecord | None:
        trial = self.store.claim_next_trial(self.campaign.id, self.owner, self.lease_seconds)
        if trial is not None:
            self._view.mine(trial)
        return trial

    def _submit(self, trial: TrialRecord) -> None:
        job = TrialJob(
            campaign_id=self.campaign.id,
            trial_id=trial.id,
            number=trial.number,
            attempt=trial.attempts,
            space=self.spec.space,
            config=trial.config,
            config_hash=trial.config_hash,
            spec=self.campaign.spec,
            init=self._inits.source_for(trial.config),
        )
        self.executor.submit(job)
        self._emit("started", trial)

    # -- recording results -----------------------------------------------------------------------
    def _record(self, outcome: TrialOutcome) -> None:
        try:
            if self._retry(outcome):
                return
            if outcome.ok:
                trial = self._record_success(outcome)
            else:
                trial = self._fail(outcome.trial_id, outcome.error or "unknown error", outcome)
                log.warning("trial %d failed: %s", trial.number, trial.error)
        except StateConflictError as exc:
            # Our lease expired and another controller took the trial: its result is theirs.
            log.warning("result of trial %d dropped: %s", outcome.trial_id, exc)
            self._view.lost(outcome.trial_id)
            return
        self._finished(trial)

    def _finished(self, trial: TrialRecord) -> None:
        self._sampler_tell(trial)
        self._view.add_to_front(trial)
        self._emit("finished", trial)

    def _sampler_tell(self, trial: TrialRecord) -> None:
        self._view.sampler.tell(trial.config, trial.state, trial.objectives, trial.metrics)

    def _finish_failed(self, trial: TrialRecord, error: str) -> None:
        try:
            failed = self.store.fail_trial(trial.id, error, lease_owner=self.owner)
        except StateConflictError as exc:
            log.warning("trial %d: %s", trial.number, exc)
            return
        self._finished(failed)

    def _fail(self, trial_id: int, error: str, outcome: TrialOutcome) -> TrialRecord:
        return self.store.fail_trial(trial_id, error, worker=outcome.worker, lease_owner=self.owner)

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
        self.store.requeue_trial(trial.id, lease_owner=self.owner)
        return True

    def _record_success(self, outcome: TrialOutcome) -> TrialRecord:
        try:
            objectives, feasible = self.spec.score(outcome.metrics)
        except ValueError as exc:
            return self._fail(outcome.trial_id, str(exc), outcome)
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
                lease_owner=self.owner,
                initialisation=outcome.initialisation,
            )
        except InvalidValueError as exc:  # e.g. a NaN metric: the trial fails, nothing half-written
            return self._fail(outcome.trial_id, f"invalid result: {exc}", outcome)

    def _emit(self, kind: str, trial: TrialRecord) -> None:
        if kind == "finished":
            self._view.n_finished += 1
        event = ControllerEvent(kind, trial, self._view.n_finished, self.spec.budget.trials)
        self._on_event(event)
