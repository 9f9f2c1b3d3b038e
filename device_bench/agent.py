"""The benchmark agent loop: lease a job, fetch its model, measure it, post the result.

Transport-free: it talks to a JobBoard (HTTP or in-process). Every job is measured with one
protocol (device_bench.protocol: cold time apart, warm-up runs, then p50/p90 over `runs` timed
runs of one tile, and the 12 MP estimate). While a long measurement runs a background thread
renews the lease, so only a silent agent loses its job. Models are kept in a local file cache by
content hash (checked on download). An empty queue is polled with a growing pause; network
trouble (BoardUnavailable) is retried with tenacity for `retry_seconds` before the agent gives up.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_delay,
    stop_when_event_set,
    wait_exponential,
)

from device_bench.agent_protocol import (
    AgentDescription,
    BoardError,
    BoardUnavailable,
    JobBoard,
    JobReport,
    JobTicket,
    LeaseLost,
    describe_agent,
)
from device_bench.backends import BenchmarkBackend

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class AgentOptions:
    lease_seconds: float = 60.0
    warmup: int = 3
    runs: int = 10
    cache_dir: Path | None = None  # default: <temp>/codecnas-agent-models
    idle_min_seconds: float = 0.2  # first pause when the queue is empty; doubles up to the max
    idle_max_seconds: float = 2.0
    retry_seconds: float = 120.0  # how long network errors are retried before giving up


@dataclass
class AgentSummary:
    agent_id: int
    measured: int = 0
    failed: int = 0  # the model could not be measured; the server was told why
    lost: int = 0  # the lease was lost (expired and taken by another agent) before the result


class ModelCache:
    """Model files by SHA-256; a download whose bytes do not hash to the name is refused."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str, download: Callable[[str], bytes]) -> Path:
        target = self.root / sha256
        if target.is_file():
            return target
        data = download(sha256)
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256:
            raise BoardError(f"model {sha256} downloaded with SHA-256 {actual}: corrupt download")
        handle, temp_name = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        with os.fdopen(handle, "wb") as temp_file:
            temp_file.write(data)
        os.replace(temp_name, target)
        return target


class RetryingBoard:
    """Calls a board, retrying BoardUnavailable with exponential pauses (tenacity)."""

    def __init__(self, board: JobBoard, retry_seconds: float, stop: threading.Event) -> None:
        self.board = board
        self._retry_seconds = retry_seconds
        self._stop = stop

    def call(self, what: str, function: Callable[[], T]) -> T:
        retrying = Retrying(
            retry=retry_if_exception_type(BoardUnavailable),
            wait=wait_exponential(multiplier=0.2, max=5.0),
            stop=stop_after_delay(self._retry_seconds) | stop_when_event_set(self._stop),
            sleep=self._pause,  # a stop request cuts the pause short
            before_sleep=lambda state: log.warning(
                "%s failed (%s); retrying", what, state.outcome and state.outcome.exception()
            ),
            reraise=True,
        )
        return retrying(function)

    def _pause(self, seconds: float) -> None:
        self._stop.wait(seconds)

    def fetch_model(self, sha256: str) -> bytes:
        return self.call("downloading a model", lambda: self.board.fetch_model(sha256))


class LeaseKeeper:
    """Renews a job's lease every third of its length while the block runs."""

    def __init__(self, board: RetryingBoard, agent_id: int, job_id: int, seconds: float) -> None:
        self._renew = lambda: board.board.renew(agent_id, job_id, seconds)
        self._interval = seconds / 3.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"renew-job-{job_id}", daemon=True)
        self.lost: str | None = None

    def _run(self) -> None:
        while not self._done.wait(self._interval):
            try:
                self._renew()
            except LeaseLost as error:
                self.lost = str(error)
                return
            except BoardUnavailable as error:  # the next renewal may get through
                log.warning("renewing the lease failed: %s", error)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._done.set()
        self._thread.join()


def _measure(
    backend: BenchmarkBackend, path: Path, job: JobTicket, options: AgentOptions
) -> JobReport:
    if job.model_format != backend.artifact_format:
        raise ValueError(
            f"job {job.id} holds a {job.model_format!r} model; backend {backend.name!r} runs "
            f"{backend.artifact_format!r}"
        )
    # Bytes, not the path: a Core ML package travels as the bytes of its archive.
    result = backend.benchmark(
        path.read_bytes(), part=job.part, tile=job.tile, warmup=options.warmup, runs=options.runs
    )
    return JobReport.of(result)


def _handle(
    board: RetryingBoard,
    backend: BenchmarkBackend,
    agent_id: int,
    job: JobTicket,
    options: AgentOptions,
    cache: ModelCache,
) -> str:
    """Measure one leased job; returns "measured", "failed" or "lost"."""
    try:
        path = cache.path(job.model_sha256, board.fetch_model)
        with LeaseKeeper(board, agent_id, job.id, options.lease_seconds) as keeper:
            report = _measure(backend, path, job, options)
        if keeper.lost is not None:
            log.warning("job %d: lease lost while measuring (%s)", job.id, keeper.lost)
            return "lost"
    except (BoardUnavailable, LeaseLost):
        raise
    except Exception as error:  # noqa: BLE001 - any failure to measure is reported, not fatal
        text = f"{type(error).__name__}: {error}"
        log.warning("job %d failed: %s", job.id, text)
        board.call("posting a failure", lambda: board.board.post_failure(agent_id, job.id, text))
        return "failed"
    board.call("posting a result", lambda: board.board.post_result(agent_id, job.id, report))
    return "measured"


def run_agent(
    board: JobBoard,
    backend: BenchmarkBackend,
    *,
    description: AgentDescription | None = None,
    options: AgentOptions | None = None,
    max_jobs: int | None = None,
    idle_exit: float | None = None,
    stop_event: threading.Event | None = None,
) -> AgentSummary:
    """Register, then lease and measure jobs until `max_jobs` were handled, the queue stayed
    empty for `idle_exit` seconds, or `stop_event` is set."""
    options = options or AgentOptions()
    stop = stop_event or threading.Event()
    calls = RetryingBoard(board, options.retry_seconds, stop)
    cache = ModelCache(options.cache_dir or Path(tempfile.gettempdir()) / "codecnas-agent-models")
    identity = description or describe_agent(backend)
    summary = AgentSummary(agent_id=calls.call("registering", lambda: board.register(identity)))
    log.info("agent %d registered: %s on %s", summary.agent_id, identity.backend, identity.device)
    pause, idle_since = options.idle_min_seconds, time.monotonic()
    while not stop.is_set() and (max_jobs is None or _handled(summary) < max_jobs):
        job = calls.call(
            "leasing a job", lambda: board.lease(summary.agent_id, options.lease_seconds)
        )
        if job is None:
            if idle_exit is not None and time.monotonic() - idle_since >= idle_exit:
                break
            stop.wait(pause)
            pause = min(pause * 2, options.idle_max_seconds)
            continue
        try:
            outcome = _handle(calls, backend, summary.agent_id, job, options, cache)
        except LeaseLost as error:
            log.warning("job %d: %s", job.id, error)
            outcome = "lost"
        setattr(summary, outcome, getattr(summary, outcome) + 1)
        pause, idle_since = options.idle_min_seconds, time.monotonic()
    return summary


def _handled(summary: AgentSummary) -> int:
    return summary.measured + summary.failed + summary.lost
