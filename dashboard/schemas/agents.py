"""Bodies of the benchmark agent protocol: register, lease, renew, download, result, failure."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from nas.bench_domain import AgentRecord, BenchJob, BenchJobState, BenchMeasurement, BenchResult

# Leases are renewed by a running agent; a day is far beyond any single measurement.
MAX_LEASE_SECONDS = 86_400.0
MAX_MS = 1e9  # eleven days per tile: anything above is a unit error, not a latency


class AgentIn(BaseModel):
    """An agent and the device it measures on, as it describes itself."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="this agent, e.g. 'lab-mac-1'")
    device: str = Field(
        min_length=1,
        max_length=200,
        description="stable device name results are cached under, e.g. 'linux-x86_64-amd-epyc'",
    )
    device_model: str = Field(default="", max_length=200, description="e.g. 'iPhone 16 Pro'")
    os: str = Field(default="", max_length=200, description="e.g. 'Linux 6.8.0', 'iOS 18.1'")
    runtime: str = Field(default="", max_length=100, description="e.g. 'onnxruntime'")
    runtime_version: str = Field(default="", max_length=100)
    compute_units: str = Field(default="cpu", max_length=100, description="cpu, all, cpu_and_ne")
    backend: str = Field(
        min_length=1, max_length=100, description="benchmark backend: onnxruntime, coreml..."
    )
    details: dict[str, Any] = Field(default_factory=dict, description="anything else (cores...)")

    def description(self) -> dict[str, Any]:
        return self.model_dump(exclude={"name", "device", "backend"})


class AgentOut(BaseModel):
    id: int
    name: str
    device: str
    backend: str
    description: dict[str, Any]
    registered_at: dt.datetime

    @classmethod
    def of(cls, agent: AgentRecord) -> AgentOut:
        return cls(
            id=agent.id,
            name=agent.name,
            device=agent.device,
            backend=agent.backend,
            description=agent.description,
            registered_at=agent.registered_at,
        )


class LeaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lease_seconds: float = Field(
        default=60.0,
        gt=0,
        le=MAX_LEASE_SECONDS,
        allow_inf_nan=False,
        description="the lease expires unless renewed within this time",
    )


class BenchResultOut(BaseModel):
    id: int
    device: str
    backend: str
    precision: str
    part: str
    tile: int
    warmup: int
    runs: int
    p50_ms: float
    p90_ms: float
    estimate_12mp_ms: float
    cold_ms: float | None
    agent_id: int | None
    measured_at: dt.datetime

    @classmethod
    def of(cls, result: BenchResult) -> BenchResultOut:
        fields = cls.model_fields
        return cls(**{name: getattr(result, name) for name in fields})


class BenchJobOut(BaseModel):
    id: int
    model_sha256: str
    model_format: str
    model_url: str = Field(description="download the model by content hash (agent token)")
    part: str
    backend: str
    precision: str
    tile: int
    state: BenchJobState
    attempts: int
    agent_id: int | None
    lease_expires_at: dt.datetime | None
    error: str | None
    result: BenchResultOut | None

    @classmethod
    def of(cls, job: BenchJob) -> BenchJobOut:
        return cls(
            id=job.id,
            model_sha256=job.model_sha256,
            model_format=job.model_format,
            model_url=f"/api/bench/models/{job.model_sha256}",
            part=job.part,
            backend=job.backend,
            precision=job.precision,
            tile=job.tile,
            state=job.state,
            attempts=job.attempts,
            agent_id=job.agent_id,
            lease_expires_at=job.lease_expires_at,
            error=job.error,
            result=None if job.result is None else BenchResultOut.of(job.result),
        )


class BenchResultIn(BaseModel):
    """One measurement following the protocol: warm-up runs, then p50/p90 of `runs` timed runs
    of one tile; cold time (load or compile plus the first run) apart."""

    model_config = ConfigDict(extra="forbid")

    warmup: int = Field(ge=0, le=100_000)
    runs: int = Field(ge=1, le=100_000)
    p50_ms: float = Field(gt=0, le=MAX_MS, allow_inf_nan=False)
    p90_ms: float = Field(gt=0, le=MAX_MS, allow_inf_nan=False)
    estimate_12mp_ms: float = Field(gt=0, le=MAX_MS * 1000, allow_inf_nan=False)
    cold_ms: float | None = Field(default=None, gt=0, le=MAX_MS, allow_inf_nan=False)
    details: dict[str, Any] = Field(default_factory=dict, description="timings, clock, versions")

    def measurement(self) -> BenchMeasurement:
        return BenchMeasurement(**self.model_dump())


class BenchFailureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    error: str = Field(min_length=1, max_length=20_000, description="why it could not measure")
