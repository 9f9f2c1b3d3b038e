"""Value types shared by the controller, the storage and the executors.

They carry plain Python data only (no ORM objects, no tensors) so that they cross process
boundaries (Ray) and storage backends unchanged.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

JsonDict = dict[str, Any]


class TrialState(enum.StrEnum):
    """Life cycle of a trial. PENDING and RUNNING are re-run on resume; the others are final."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETE = "complete"
    FAILED = "failed"

    @property
    def is_finished(self) -> bool:
        return self in (TrialState.COMPLETE, TrialState.FAILED)


class CampaignStatus(enum.StrEnum):
    CREATED = "created"
    RUNNING = "running"
    INTERRUPTED = "interrupted"
    FINISHED = "finished"


@dataclass(frozen=True)
class Measurement:
    """One latency measurement of one exported graph on one device and backend."""

    device: str
    backend: str
    part: str  # "decoder" or "encoder"
    precision: str  # "fp32", "fp16", "int8"
    tile: int  # square tile side in pixels, e.g. 512
    warmup: int
    runs: int
    p50_ms: float  # per tile
    p90_ms: float  # per tile
    estimate_12mp_ms: float  # p50 per tile times the tile count of a 4032x3024 image
    cold_ms: float | None = None  # session creation / compile time


@dataclass(frozen=True)
class ArtifactPayload:
    """Bytes produced by a worker, stored by content hash when the trial is recorded."""

    kind: str  # "checkpoint", "onnx_decoder", "config"
    filename: str
    data: bytes


@dataclass(frozen=True)
class ArtifactRecord:
    kind: str
    filename: str
    sha256: str
    size: int


@dataclass(frozen=True)
class InitSource:
    """Trained weights a trial starts from (inheritance), chosen by the controller.

    The weights travel with the job (workers on other hosts need not see the artifact store).
    `described` says where they come from, as stored with the trial: {"kind": "trial",
    "trial_number", "config_hash", "distance"} or {"kind": "model_dir", "path", "config_hash"}.
    """

    space: str
    config: JsonDict
    weights: bytes  # a state_dict saved with torch.save
    described: JsonDict


@dataclass(frozen=True)
class StoredCheckpoint:
    """A completed trial's trained weights in the artifact store."""

    trial_id: int
    trial_number: int
    config: JsonDict
    config_hash: str
    sha256: str


@dataclass(frozen=True)
class TrialJob:
    """Everything a worker needs to run one trial; the campaign spec travels as JSON."""

    campaign_id: int
    trial_id: int
    number: int
    attempt: int
    space: str
    config: JsonDict
    config_hash: str
    spec: JsonDict
    init: InitSource | None = None  # None: the trial trains from scratch


@dataclass
class TrialOutcome:
    """What a worker returns: either metrics and artifacts, or the reason it failed."""

    trial_id: int
    ok: bool
    metrics: dict[str, float] = field(default_factory=dict)
    per_image: dict[str, dict[str, float]] = field(default_factory=dict)
    measurements: list[Measurement] = field(default_factory=list)
    artifacts: list[ArtifactPayload] = field(default_factory=list)
    error: str | None = None
    worker: str | None = None
    seconds: float = 0.0
    # True when the trial did not fail by itself but lost its worker (killed, OOM, node lost):
    # the controller runs it again, up to the campaign's max_attempts.
    retryable: bool = False
    # What the trained weights started from: InitSource.described plus the inheritance
    # report's summary (fraction of parameters inherited), or {"kind": "scratch"}.
    initialisation: JsonDict | None = None


@dataclass(frozen=True)
class TrialRecord:
    """A trial as stored."""

    id: int
    campaign_id: int
    number: int
    state: TrialState
    config: JsonDict
    config_hash: str
    attempts: int
    error: str | None
    metrics: dict[str, float]
    objectives: dict[str, float] | None
    feasible: bool | None
    worker: str | None = None
    rung: int = 0  # training budget level (multi-fidelity); 0 is the cheapest
    parent_trial_id: int | None = None  # the lower-rung trial this one was promoted from
    initialisation: JsonDict | None = None  # see TrialOutcome.initialisation; None: unknown


@dataclass(frozen=True)
class CampaignRecord:
    id: int
    name: str
    spec: JsonDict
    status: CampaignStatus


@dataclass(frozen=True)
class HypervolumePoint:
    n_complete: int
    hypervolume: float
