"""The controller's executor on Ray: one task per trial, CPU-sized, retried if its worker dies."""

from __future__ import annotations

import time
from typing import Any

import ray
from ray.exceptions import RayError

from nas.domain import TrialJob, TrialOutcome
from workers.cluster import connect, total_cpus
from workers.trial_pipeline import run_trial


@ray.remote
def _run_trial_task(job: TrialJob) -> TrialOutcome:
    outcome = run_trial(job)
    # Several Ray nodes may share one host: the node id says where the trial really ran.
    node = ray.get_runtime_context().get_node_id()
    outcome.worker = f"node {node[:12]} {outcome.worker}"
    return outcome


class RayExecutor:
    """Runs trials as Ray tasks with `cpus_per_trial` CPUs each."""

    def __init__(
        self,
        address: str | None = None,
        cpus_per_trial: float = 1.0,
        max_parallel: int | None = None,
        num_cpus: int | None = None,
    ) -> None:
        connect(address, num_cpus=num_cpus)
        fits = max(1, int(total_cpus() // cpus_per_trial))
        self._capacity = min(fits, max_parallel) if max_parallel else fits
        self._cpus = cpus_per_trial
        self._refs: dict[Any, TrialJob] = {}

    @property
    def capacity(self) -> int:
        return self._capacity

    def running(self) -> int:
        return len(self._refs)

    def submit(self, job: TrialJob) -> None:
        # No Ray-level retries: the controller re-runs a trial whose worker died, so that every
        # attempt is recorded in the database.
        ref = _run_trial_task.options(
            num_cpus=self._cpus, max_retries=0, retry_exceptions=False
        ).remote(job)
        self._refs[ref] = job

    def wait(self, timeout: float | None = None) -> list[TrialOutcome]:
        if not self._refs:
            return []
        done, _ = ray.wait(list(self._refs), num_returns=1, timeout=timeout)
        return [self._collect(ref) for ref in done]

    def _collect(self, ref: Any) -> TrialOutcome:
        job = self._refs.pop(ref)
        start = time.perf_counter()
        try:
            outcome: TrialOutcome = ray.get(ref)
        except RayError as exc:  # the worker process or its node died, or the task was cancelled
            outcome = TrialOutcome(
                trial_id=job.trial_id,
                ok=False,
                error=f"worker lost in attempt {job.attempt}: {type(exc).__name__}: {exc}",
                seconds=time.perf_counter() - start,
                retryable=True,
            )
        return outcome

    def shutdown(self) -> None:
        for ref in list(self._refs):
            ray.cancel(ref, force=True)
        self._refs.clear()
