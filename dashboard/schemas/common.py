"""Bodies shared by several routers: errors, trials, measurements, artifacts."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from pydantic import BaseModel, Field

from codec.anchor_extrapolation import flagged_ratios
from nas.domain import ArtifactRecord, Measurement, TrialRecord, TrialState
from nas.inheritance import describe_initialisation


class ErrorOut(BaseModel):
    error: str = Field(description="kind of error: not_found, conflict, invalid_request, ...")
    detail: str = Field(description="what is wrong, naming the value at fault")


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": text}
    for code, text in (
        (401, "missing or unknown token"),
        (403, "the token's role may not do this"),
        (404, "no such campaign, trial, image or artifact"),
        (409, "the campaign or trial is not in a state that allows this"),
        (422, "invalid request or value"),
    )
}


class TrialOut(BaseModel):
    id: int
    campaign_id: int
    number: int
    state: TrialState
    config: dict[str, Any]
    config_hash: str
    attempts: int
    error: str | None
    worker: str | None
    metrics: dict[str, float]
    objectives: dict[str, float] | None
    feasible: bool | None
    extrapolated: dict[str, str] = Field(
        default_factory=dict,
        description="anchor ratios computed outside the anchor's measured quality range on some "
        "eval images: metric -> note ('extrap. 4/6 images'); such a ratio is an estimate",
    )
    initialisation: dict[str, Any] | None = Field(
        default=None,
        description="what the trained weights started from (inheritance): kind scratch, trial "
        "(trial_number, config_hash) or model_dir (path), with the fraction of parameters taken",
    )
    initialised_from: str | None = Field(
        default=None, description="the same in one line, e.g. 'initialised from trial 3 (…)'"
    )

    @classmethod
    def of(cls, trial: TrialRecord) -> TrialOut:
        return cls(
            id=trial.id,
            campaign_id=trial.campaign_id,
            number=trial.number,
            state=trial.state,
            config=trial.config,
            config_hash=trial.config_hash,
            attempts=trial.attempts,
            error=trial.error,
            worker=trial.worker,
            metrics=trial.metrics,
            objectives=trial.objectives,
            feasible=trial.feasible,
            extrapolated=flagged_ratios(trial.metrics),
            initialisation=trial.initialisation,
            initialised_from=describe_initialisation(trial.initialisation),
        )


class MeasurementOut(BaseModel):
    device: str
    backend: str
    part: str
    precision: str
    tile: int
    warmup: int
    runs: int
    p50_ms: float
    p90_ms: float
    estimate_12mp_ms: float
    cold_ms: float | None

    @classmethod
    def of(cls, measurement: Measurement) -> MeasurementOut:
        return cls(**asdict(measurement))


class ArtifactOut(BaseModel):
    kind: str = Field(description="checkpoint, onnx_decoder, config, reconstruction, coreml...")
    filename: str
    sha256: str
    size: int
    url: str = Field(description="download by content hash")

    @classmethod
    def of(cls, artifact: ArtifactRecord) -> ArtifactOut:
        return cls(
            kind=artifact.kind,
            filename=artifact.filename,
            sha256=artifact.sha256,
            size=artifact.size,
            url=f"/api/artifacts/{artifact.sha256}",
        )
