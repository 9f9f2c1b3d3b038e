"""Campaign bodies: summaries with the funnel's stage counts, creation, run control."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from nas.domain import CampaignStatus


class StageCounts(BaseModel):
    """The search funnel: sampled, then run, then feasible, then on the front."""

    sampled: int = Field(description="trials created by the sampler")
    pending: int
    running: int
    complete: int
    failed: int
    feasible: int = Field(description="complete trials meeting every constraint")
    front: int = Field(description="trials on the stored Pareto front")


class FunnelStageOut(BaseModel):
    """One stage of a funnel campaign (screen, predict, measure, proxy, full) as stored."""

    stage: str
    position: int
    n_in: int = Field(description="configs that entered the stage")
    n_out: int = Field(description="configs that passed it")
    seconds: float
    details: dict[str, Any] = Field(description="what the stage found (bands, rounds, ...)")


class ObjectiveOut(BaseModel):
    metric: str
    direction: str


class RunOut(BaseModel):
    """A campaign process started by this server."""

    pid: int
    running: bool
    exit_code: int | None
    log: str


class CampaignOut(BaseModel):
    id: int
    name: str
    status: CampaignStatus
    space: str | None
    objectives: list[ObjectiveOut]
    budget_trials: int | None
    counts: StageCounts
    hypervolume: float | None = Field(description="latest recorded hypervolume")
    run: RunOut | None = Field(description="the latest run started from this server, if any")
    funnel: list[FunnelStageOut] = Field(
        default_factory=list,
        description="a funnel campaign's finished stages, in order (status route only)",
    )


class CampaignDetailOut(CampaignOut):
    spec: dict[str, Any]
    devices: list[str] = Field(description="devices with decoder measurements")
    eval_source: str | None


class CampaignCreate(BaseModel):
    spec: dict[str, Any] | str = Field(
        description="a campaign spec: a mapping, or the text of a YAML (or JSON) spec file"
    )
    launch: bool = Field(default=False, description="start running it at once")


class ActionOut(BaseModel):
    message: str
    campaign: CampaignOut
