"""An in-process benchmark agent for the embedded default: the agent loop over the store itself.

`LocalJobBoard` is the JobBoard of device_bench.agent without HTTP: the same store calls the API
makes, so leases, the per-device cache and the lease-holder checks are the same.
`start_local_agent(store)` runs the loop in a daemon thread until `.stop()`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from device_bench.agent import AgentOptions, AgentSummary, run_agent
from device_bench.agent_protocol import (
    AgentDescription,
    BoardError,
    BoardUnavailable,
    JobReport,
    JobTicket,
    LeaseLost,
    describe_agent,
)
from device_bench.backends import create_backend
from nas.bench_domain import BenchMeasurement
from nas.errors import CodecnasError, NotFoundError, StateConflictError, StorageError
from nas.storage import CampaignStore

log = logging.getLogger(__name__)


@contextmanager
def _as_board_errors(what: str) -> Iterator[None]:
    """Store errors as the agent understands them."""
    try:
        yield
    except StateConflictError as error:
        raise LeaseLost(f"{what}: {error}") from error
    except StorageError as error:
        raise BoardUnavailable(f"{what}: {error}") from error
    except CodecnasError as error:
        raise BoardError(f"{what}: {error}") from error


class LocalJobBoard:
    def __init__(self, store: CampaignStore) -> None:
        self.store = store

    def register(self, description: AgentDescription) -> int:
        extra = description.to_json()
        for key in ("name", "device", "backend"):
            extra.pop(key)
        with _as_board_errors("registering"):
            agent = self.store.register_agent(
                description.name, description.device, description.backend, extra
            )
        return agent.id

    def lease(self, agent_id: int, lease_seconds: float) -> JobTicket | None:
        with _as_board_errors(f"leasing a job for agent {agent_id}"):
            job = self.store.lease_bench_job(agent_id, lease_seconds)
        if job is None:
            return None
        return JobTicket(
            id=job.id,
            model_sha256=job.model_sha256,
            model_format=job.model_format,
            part=job.part,
            precision=job.precision,
            tile=job.tile,
        )

    def renew(self, agent_id: int, job_id: int, lease_seconds: float) -> None:
        with _as_board_errors(f"renewing job {job_id}"):
            self.store.renew_bench_lease(job_id, agent_id, lease_seconds)

    def fetch_model(self, sha256: str) -> bytes:
        try:
            return self.store.model_artifact_path(sha256).read_bytes()
        except (NotFoundError, OSError) as error:
            raise BoardError(f"model {sha256}: {error}") from error

    def post_result(self, agent_id: int, job_id: int, report: JobReport) -> None:
        measurement = BenchMeasurement(**report.to_json())
        with _as_board_errors(f"posting the result of job {job_id}"):
            self.store.complete_bench_job(job_id, agent_id, measurement)

    def post_failure(self, agent_id: int, job_id: int, error: str) -> None:
        with _as_board_errors(f"posting the failure of job {job_id}"):
            self.store.fail_bench_job(job_id, agent_id, error)


@dataclass
class LocalAgentHandle:
    """A running in-process agent; `.stop()` ends it after the job it is measuring."""

    thread: threading.Thread
    stop_event: threading.Event
    summary: list[AgentSummary] = field(default_factory=list)  # filled when the loop ends
    errors: list[BaseException] = field(default_factory=list)

    def stop(self, timeout: float | None = 60.0) -> AgentSummary | None:
        self.stop_event.set()
        self.thread.join(timeout)
        if self.errors:
            raise RuntimeError(f"the local agent failed: {self.errors[0]}") from self.errors[0]
        return self.summary[0] if self.summary else None

    @property
    def running(self) -> bool:
        return self.thread.is_alive()


def start_local_agent(
    store: CampaignStore,
    backend: str = "onnxruntime",
    *,
    options: AgentOptions | None = None,
    backend_options: dict[str, Any] | None = None,
    name: str | None = None,
) -> LocalAgentHandle:
    """Start an agent in a daemon thread of this process, measuring with `backend`.

    The backend is created here, so a backend that cannot run on this machine raises
    BackendUnavailable at once, not in the thread."""
    bench_backend = create_backend(backend, **(backend_options or {}))
    options = options or AgentOptions(cache_dir=Path(store.artifact_root) / "agent-model-cache")
    stop_event = threading.Event()
    handle = LocalAgentHandle(thread=threading.Thread(), stop_event=stop_event)

    def loop() -> None:
        description = describe_agent(bench_backend, name or f"local-{backend}")
        try:
            handle.summary.append(
                run_agent(
                    LocalJobBoard(store),
                    bench_backend,
                    description=description,
                    options=options,
                    stop_event=stop_event,
                )
            )
        except BaseException as error:  # kept for stop(), which re-raises it in the caller
            log.exception("the local benchmark agent stopped")
            handle.errors.append(error)

    handle.thread = threading.Thread(target=loop, name=f"local-agent-{backend}", daemon=True)
    handle.thread.start()
    return handle
