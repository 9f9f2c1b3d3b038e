"""The controller's executor on Ray: one task per trial, sized in CPUs and GPUs, retried if its
worker dies."""

from __future__ import annotations

import time
from typing import Any

import ray
from ray.exceptions import RayError

from nas.domain import TrialJob, TrialOutcome
from nas.errors import ResourceError
from workers.cluster import connect, total_cpus, total_gpus
from workers.trial_pipeline import run_trial


def _run_on_worker(job: TrialJob) -> TrialOutcome:
    context = ray.get_runtime_context()
    # Only a GPU Ray reserved for this task: a trial given none trains on the CPU.
    has_gpu = bool(context.get_accelerator_ids().get("GPU"))
    outcome = run_trial(job, has_gpu=has_gpu)
    # Several Ray nodes may share one host: the node id says where the trial really ran.
    outcome.worker = f"node {context.get_node_id()[:12]} {outcome.worker}"
    return outcome


@ray.remote
def _run_trial_task(job: TrialJob) -> TrialOutcome:
    return _run_on_worker(job)


# A worker process that trained on a GPU exits after its trial: it frees the GPU memory torch
# caches, and the next GPU trial starts in a process whose torch reads the CUDA_VISIBLE_DEVICES
# Ray set for it (torch reads it once). Ray does this by itself only for functions declared with
# num_gpus, not for .options(num_gpus=...).
@ray.remote(max_calls=1)
def _run_gpu_trial_task(job: TrialJob) -> TrialOutcome:
    return _run_on_worker(job)


def task_options(cpus_per_trial: float, gpus_per_trial: float) -> dict[str, Any]:
    """What Ray is asked for per trial. No Ray-level retries: the controller re-runs a trial
    whose worker died, so that every attempt is recorded in the database."""
    return {
        "num_cpus": cpus_per_trial,
        "num_gpus": gpus_per_trial,
        "max_retries": 0,
        "retry_exceptions": False,
    }


class RayExecutor:
    """Runs trials as Ray tasks with `cpus_per_trial` CPUs and `gpus_per_trial` GPUs each."""

    def __init__(
        self,
        address: str | None = None,
        cpus_per_trial: float = 1.0,
        max_parallel: int | None = None,
        num_cpus: int | None = None,
        gpus_per_trial: float = 0.0,
    ) -> None:
        if gpus_per_trial < 0:
            raise ValueError(f"gpus_per_trial must be >= 0, got {gpus_per_trial}")
        connect(address, num_cpus=num_cpus)
        cpus = total_cpus()
        if cpus < cpus_per_trial:
            raise ResourceError(
                f"cluster.cpus_per_trial is {cpus_per_trial:g} but the Ray cluster has "
                f"{cpus:g} CPUs: no trial could start"
            )
        fits = max(1, int(cpus // cpus_per_trial))
        if gpus_per_trial > 0:
            gpus = total_gpus()
            if gpus < gpus_per_trial:
                raise ResourceError(
                    f"cluster.gpus_per_trial is {gpus_per_trial} but the Ray cluster has "
                    f"{gpus:g} GPUs: no trial could start"
                )
            fits = min(fits, int(gpus // gpus_per_trial))
        self._capacity = min(fits, max_parallel) if max_parallel else fits
        self._options = task_options(cpus_per_trial, gpus_per_trial)
        self._task = _run_gpu_trial_task if gpus_per_trial > 0 else _run_trial_task
        self._refs: dict[Any, TrialJob] = {}

    @property
    def options(self) -> dict[str, Any]:
        """The Ray options every trial task is submitted with."""
        return dict(self._options)

    @property
    def capacity(self) -> int:
        return self._capacity

    def running(self) -> int:
        return len(self._refs)

    def submit(self, job: TrialJob) -> None:
        ref = self._task.options(**self._options).remote(job)
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
