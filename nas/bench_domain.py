"""Value types of the benchmark service: agents, the jobs they lease, and cached results.

Plain frozen dataclasses (no ORM objects) so that they cross threads, processes and the HTTP API
unchanged. A job names a model artifact by content hash and what to measure (part, backend,
precision, tile); the agent that leases it supplies the device. A result is cached under
(model hash, device, backend, precision, part, tile): a model is never measured twice on a device.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Any

JsonDict = dict[str, Any]


class BenchJobState(enum.StrEnum):
    """QUEUED -> LEASED -> DONE or FAILED. A LEASED job whose lease expired is leasable again."""

    QUEUED = "queued"
    LEASED = "leased"
    DONE = "done"
    FAILED = "failed"

    @property
    def is_finished(self) -> bool:
        return self in (BenchJobState.DONE, BenchJobState.FAILED)


@dataclass(frozen=True)
class AgentRecord:
    """A registered benchmark agent; `device` is the key its results are cached under."""

    id: int
    name: str
    device: str
    backend: str
    description: JsonDict  # model, OS, runtime and version, compute units: as the agent said
    token_id: int | None
    registered_at: dt.datetime
    last_seen_at: dt.datetime


@dataclass(frozen=True)
class BenchMeasurement:
    """What an agent reports for one job: the latency protocol's numbers (milliseconds).

    The cache key (model, device, backend, precision, part, tile) is not part of it: it comes
    from the job and the agent that holds its lease, so a result cannot be filed under another key.
    """

    warmup: int
    runs: int
    p50_ms: float  # per tile, warm
    p90_ms: float  # per tile, warm
    estimate_12mp_ms: float  # p50 times the tile count of a 12 MP photo
    cold_ms: float | None = None  # load / compile plus the first run
    details: JsonDict = field(default_factory=dict)  # timings, clock, runtime version...


@dataclass(frozen=True)
class BenchResult:
    """A stored measurement of one model on one device (one row of the cache)."""

    id: int
    model_sha256: str
    device: str
    backend: str
    precision: str
    part: str
    tile: int
    agent_id: int | None
    warmup: int
    runs: int
    p50_ms: float
    p90_ms: float
    estimate_12mp_ms: float
    cold_ms: float | None
    details: JsonDict
    measured_at: dt.datetime


@dataclass(frozen=True)
class BenchJob:
    """One model artifact to measure on one backend, and its result once it is DONE."""

    id: int
    model_sha256: str
    model_format: str  # "onnx", "mlpackage", ...
    part: str  # "decoder" or "encoder"
    backend: str
    precision: str
    tile: int
    state: BenchJobState
    attempts: int  # leases taken so far (a silent agent's expired lease counts)
    agent_id: int | None
    lease_expires_at: dt.datetime | None
    campaign_id: int | None
    trial_id: int | None
    config_hash: str | None
    error: str | None
    created_at: dt.datetime
    finished_at: dt.datetime | None
    result: BenchResult | None = None
