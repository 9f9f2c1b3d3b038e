"""What a benchmark agent exchanges with the server that hands out jobs, whatever the transport.

The agent sees the server as a `JobBoard`: over HTTP (agent_http.HttpJobBoard) for a separate
process, or directly over the store (codecnas.local_agent) for the embedded default. A board
raises BoardUnavailable for trouble that may pass (network, a restarting server: the agent retries
it), LeaseLost when the job is no longer this agent's (its lease expired and another agent took
it: the agent drops it), and BoardError for a refusal that retrying cannot fix (bad token).
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
from dataclasses import dataclass, field
from typing import Any, Protocol

from device_bench.backends import BenchmarkBackend
from device_bench.device import describe_device
from device_bench.iphone_report import device_name as device_name_of_report
from device_bench.protocol import LatencyResult

# The Python distribution whose version names each backend's runtime.
_RUNTIME_PACKAGE = {
    "onnxruntime": "onnxruntime",
    "torch": "torch",
    "coreml": "coremltools",
    "iphone": "coremltools",
}


class BoardError(RuntimeError):
    """The server refused the call for good (unknown token, wrong role, bad request)."""


class BoardUnavailable(BoardError):
    """The server could not be reached or answered that it is unavailable: worth retrying."""


class LeaseLost(BoardError):
    """The job is not leased to this agent any more; the message says why."""


@dataclass(frozen=True)
class AgentDescription:
    """An agent and the device it measures on; `device` is what results are cached under."""

    name: str
    device: str
    backend: str
    device_model: str = ""
    os: str = ""
    runtime: str = ""
    runtime_version: str = ""
    compute_units: str = "cpu"
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class JobTicket:
    """A leased job: which model (by content hash) to measure, and how."""

    id: int
    model_sha256: str
    model_format: str
    part: str
    precision: str
    tile: int


@dataclass(frozen=True)
class JobReport:
    """The protocol's numbers for one job (milliseconds, per tile; 12 MP estimate from p50)."""

    warmup: int
    runs: int
    p50_ms: float
    p90_ms: float
    estimate_12mp_ms: float
    cold_ms: float | None
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, result: LatencyResult) -> JobReport:
        return cls(
            warmup=result.warmup,
            runs=result.runs,
            p50_ms=result.p50_ms,
            p90_ms=result.p90_ms,
            estimate_12mp_ms=result.estimate_12mp_ms,
            cold_ms=result.cold_ms,
            details={
                "clock": result.clock,
                "timings_ms": list(result.timings_ms),
                "measured_device": result.device,
                "measured_precision": result.precision,
            },
        )

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class JobBoard(Protocol):
    def register(self, description: AgentDescription) -> int:
        """Register the agent; returns its id."""
        ...

    def lease(self, agent_id: int, lease_seconds: float) -> JobTicket | None:
        """The next job for the agent, leased to it; None when there is nothing to do."""
        ...

    def renew(self, agent_id: int, job_id: int, lease_seconds: float) -> None: ...

    def fetch_model(self, sha256: str) -> bytes: ...

    def post_result(self, agent_id: int, job_id: int, report: JobReport) -> None: ...

    def post_failure(self, agent_id: int, job_id: int, error: str) -> None: ...


def runtime_version(backend_name: str) -> str:
    package = _RUNTIME_PACKAGE.get(backend_name, backend_name)
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def describe_agent(backend: BenchmarkBackend, name: str | None = None) -> AgentDescription:
    """This machine and backend as an agent describes them when it registers.

    A backend that measures on another device (an attached iPhone) says what that device is
    with `describe()`; results are then cached under the device's name, not the host's."""
    describe = getattr(backend, "describe", None)
    if callable(describe):
        return _remote_device(backend, describe(), name)
    device = describe_device()
    details: dict[str, Any] = {
        "machine": device.machine,
        "logical_cores": device.logical_cores,
        "usable_cores": device.usable_cores,
        "artifact_format": backend.artifact_format,
    }
    threads = getattr(backend, "threads", None)
    if isinstance(threads, int):
        details["threads"] = threads
    compute_units = getattr(backend, "compute_units", "cpu")
    return AgentDescription(
        name=name or f"{backend.name}@{device.name}",
        device=device.name,
        backend=backend.name,
        device_model=device.cpu_model,
        os=device.os,
        runtime=backend.name,
        runtime_version=runtime_version(backend.name),
        compute_units=compute_units if isinstance(compute_units, str) else "cpu",
        details=details,
    )


def _remote_device(
    backend: BenchmarkBackend, remote: dict[str, Any], name: str | None
) -> AgentDescription:
    # Named as the phone's own reports name it (iphone_report.device_name: "ios-iphone17-1").
    device_name = device_name_of_report({"model": str(remote.get("model") or "unknown")})
    host = describe_device()
    return AgentDescription(
        name=name or f"{backend.name}@{device_name}",
        device=device_name,
        backend=backend.name,
        device_model=str(remote.get("marketing_name") or remote.get("model", "")),
        os=str(remote.get("os", "")),
        runtime=str(remote.get("runtime", backend.name)),
        runtime_version=runtime_version(backend.name),
        compute_units=str(remote.get("compute_units", "all")),
        details={**remote, "host": host.name, "artifact_format": backend.artifact_format},
    )
