"""Trials: a campaign's trials page by page (filtered, sorted by any metric), and one trial."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query

from dashboard.api.params import CampaignId, TrialId
from dashboard.auth import reader
from dashboard.deps import app_store
from dashboard.schemas.common import ERROR_RESPONSES, ArtifactOut, MeasurementOut, TrialOut
from dashboard.schemas.results import TrialDetailOut, TrialPageOut
from nas.domain import TrialState
from nas.storage import CampaignStore
from nas.storage.browsing import MAX_PAGE_SIZE, RECONSTRUCTION_KIND, SORT_BY_NUMBER

router = APIRouter(
    prefix="/api", tags=["trials"], responses=ERROR_RESPONSES, dependencies=[Depends(reader)]
)


@router.get("/campaigns/{campaign_id}/trials", response_model=TrialPageOut)
def list_trials(
    campaign_id: CampaignId,
    state: TrialState | None = Query(None, description="only trials in this state"),
    feasible: bool | None = Query(None, description="only (in)feasible complete trials"),
    sort: str = Query(
        SORT_BY_NUMBER, min_length=1, max_length=200, description="'number' or any metric name"
    ),
    order: Literal["asc", "desc"] = "asc",
    offset: int = Query(0, ge=0, le=10_000_000),
    limit: int = Query(50, ge=1, le=MAX_PAGE_SIZE),
    store: CampaignStore = Depends(app_store),
) -> TrialPageOut:
    """One page of trials; those without the sort metric (pending, failed) come last."""
    page = store.trial_page(
        campaign_id,
        state=state,
        feasible=feasible,
        sort=sort,
        descending=order == "desc",
        offset=offset,
        limit=limit,
    )
    return TrialPageOut(
        total=page.total,
        offset=page.offset,
        limit=page.limit,
        sort=sort,
        order=order,
        items=[TrialOut.of(t) for t in page.trials],
    )


@router.get("/trials/{trial_id}", response_model=TrialDetailOut)
def get_trial(trial_id: TrialId, store: CampaignStore = Depends(app_store)) -> TrialDetailOut:
    """Config, metrics, metrics per eval image, measurements per device, artifacts."""
    trial = store.trial(trial_id)
    campaign = store.campaign(trial.campaign_id)
    artifacts = store.artifacts(trial_id)
    front_ids = {t.id for t in store.front(campaign.id)}
    return TrialDetailOut(
        trial=TrialOut.of(trial),
        campaign_name=campaign.name,
        on_front=trial.id in front_ids,
        per_image=store.per_image_metrics(trial_id),
        measurements=[MeasurementOut.of(m) for m in store.measurements(trial_id)],
        artifacts=[ArtifactOut.of(a) for a in artifacts],
        images=sorted(
            a.filename.removesuffix(".png") for a in artifacts if a.kind == RECONSTRUCTION_KIND
        ),
    )
