"""How the controller hands trials to compute: an injected executor (pymoo's parallelization style).

The controller never knows whether trials run in this process, on local Ray, or on a cluster; tests
drive it with an in-process executor, the product with `workers.ray_executor.RayExecutor`.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from nas.domain import TrialJob, TrialOutcome


class Executor(Protocol):
    @property
    def capacity(self) -> int:
        """How many trials may run at once."""
        ...

    def submit(self, job: TrialJob) -> None: ...

    def wait(self, timeout: float | None = None) -> list[TrialOutcome]:
        """Block until at least one submitted trial finishes (or the timeout passes)."""
        ...

    def running(self) -> int: ...

    def shutdown(self) -> None: ...


class InProcessExecutor:
    """Runs each trial synchronously in this process when waited for; for tests and debugging."""

    def __init__(self, run: Callable[[TrialJob], TrialOutcome], capacity: int = 1) -> None:
        self._run = run
        self._capacity = capacity
        self._queue: deque[TrialJob] = deque()

    @property
    def capacity(self) -> int:
        return self._capacity

    def submit(self, job: TrialJob) -> None:
        self._queue.append(job)

    def running(self) -> int:
        return len(self._queue)

    def wait(self, timeout: float | None = None) -> list[TrialOutcome]:
        if not self._queue:
            return []
        job = self._queue.popleft()
        start = time.perf_counter()
        try:
            outcome = self._run(job)
        except Exception as exc:  # noqa: BLE001 - a crashing trial must not end the campaign
            outcome = TrialOutcome(
                trial_id=job.trial_id, ok=False, error=f"{type(exc).__name__}: {exc}"
            )
        outcome.seconds = outcome.seconds or time.perf_counter() - start
        return [outcome]

    def shutdown(self) -> None:
        self._queue.clear()
