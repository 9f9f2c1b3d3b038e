"""Campaigns: list, create from a spec, launch, stop, resume, status with the funnel's counts."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from dashboard.api.params import CampaignId
from dashboard.auth import admin, reader
from dashboard.deps import app_launcher, app_store
from dashboard.launcher import CampaignLauncher
from dashboard.schemas.campaigns import (
    ActionOut,
    CampaignCreate,
    CampaignDetailOut,
    CampaignOut,
    FunnelStageOut,
)
from dashboard.schemas.common import ERROR_RESPONSES
from dashboard.views import campaign_detail, campaign_out
from nas.domain import CampaignRecord, CampaignStatus
from nas.errors import StateConflictError
from nas.spec import parse_spec, parse_spec_text
from nas.storage import CampaignStore
from nas.storage.access import TokenRecord

router = APIRouter(prefix="/api/campaigns", tags=["campaigns"], responses=ERROR_RESPONSES)


@router.get("", response_model=list[CampaignOut], dependencies=[Depends(reader)])
def list_campaigns(
    store: CampaignStore = Depends(app_store),
    launcher: CampaignLauncher = Depends(app_launcher),
) -> list[CampaignOut]:
    return [campaign_out(store, launcher, c) for c in store.campaigns()]


@router.post("", response_model=ActionOut, status_code=201)
def create_campaign(
    body: CampaignCreate,
    _token: TokenRecord = Depends(admin),
    store: CampaignStore = Depends(app_store),
    launcher: CampaignLauncher = Depends(app_launcher),
) -> ActionOut:
    """Create a campaign from a spec (validated as the CLI does); optionally launch it."""
    if isinstance(body.spec, str):  # the text of a spec file: the CLI's loader and errors
        spec = parse_spec_text(body.spec, source="spec")
    else:
        spec = parse_spec(body.spec, source="spec")
    campaign = store.create_campaign(spec.name, spec.to_json())
    message = f"campaign {campaign.name!r} created (id {campaign.id})"
    if body.launch:
        run = launcher.start(campaign)
        message += f" and launched (pid {run.pid})"
    return ActionOut(message=message, campaign=campaign_out(store, launcher, campaign))


@router.get("/{campaign_id}", response_model=CampaignDetailOut, dependencies=[Depends(reader)])
def get_campaign(
    campaign_id: CampaignId,
    store: CampaignStore = Depends(app_store),
    launcher: CampaignLauncher = Depends(app_launcher),
) -> CampaignDetailOut:
    return campaign_detail(store, launcher, store.campaign(campaign_id))


@router.get("/{campaign_id}/status", response_model=CampaignOut, dependencies=[Depends(reader)])
def campaign_status(
    campaign_id: CampaignId,
    store: CampaignStore = Depends(app_store),
    launcher: CampaignLauncher = Depends(app_launcher),
) -> CampaignOut:
    """Status and the funnel's stage counts: cheap, for polling while a campaign runs."""
    summary = campaign_out(store, launcher, store.campaign(campaign_id))
    stages = [
        FunnelStageOut(
            stage=s.stage,
            position=s.position,
            n_in=s.n_in,
            n_out=s.n_out,
            seconds=s.seconds,
            details=s.details,
        )
        for s in store.funnel_stages(campaign_id)
    ]
    return summary.model_copy(update={"funnel": stages})


def _start(
    store: CampaignStore, launcher: CampaignLauncher, campaign: CampaignRecord, verb: str
) -> ActionOut:
    run = launcher.start(campaign)
    return ActionOut(
        message=f"campaign {campaign.name!r} {verb} (pid {run.pid}, log {run.log})",
        campaign=campaign_out(store, launcher, campaign),
    )


@router.post("/{campaign_id}/launch", response_model=ActionOut, status_code=202)
def launch_campaign(
    campaign_id: CampaignId,
    _token: TokenRecord = Depends(admin),
    store: CampaignStore = Depends(app_store),
    launcher: CampaignLauncher = Depends(app_launcher),
) -> ActionOut:
    """Start running a campaign that was created and never run."""
    campaign = store.campaign(campaign_id)
    if campaign.status != CampaignStatus.CREATED:
        raise StateConflictError(
            f"campaign {campaign.name!r} is {campaign.status.value}, not created: "
            "use resume for an interrupted campaign"
        )
    return _start(store, launcher, campaign, "launched")


@router.post("/{campaign_id}/resume", response_model=ActionOut, status_code=202)
def resume_campaign(
    campaign_id: CampaignId,
    force: bool = Query(
        False, description="resume a campaign marked running whose process died (crash)"
    ),
    _token: TokenRecord = Depends(admin),
    store: CampaignStore = Depends(app_store),
    launcher: CampaignLauncher = Depends(app_launcher),
) -> ActionOut:
    """Go on with an interrupted campaign: finished trials are kept, running ones run again."""
    campaign = store.campaign(campaign_id)
    status = campaign.status
    if status == CampaignStatus.FINISHED:
        raise StateConflictError(f"campaign {campaign.name!r} is finished: nothing to resume")
    if status == CampaignStatus.RUNNING and not force:
        raise StateConflictError(
            f"campaign {campaign.name!r} is marked running (here or elsewhere); "
            "if its process died, resume with force=true"
        )
    return _start(store, launcher, campaign, "resumed")


@router.post("/{campaign_id}/stop", response_model=ActionOut, status_code=202)
def stop_campaign(
    campaign_id: CampaignId,
    _token: TokenRecord = Depends(admin),
    store: CampaignStore = Depends(app_store),
    launcher: CampaignLauncher = Depends(app_launcher),
) -> ActionOut:
    """Interrupt a run started from this server; it can be resumed later."""
    campaign = store.campaign(campaign_id)
    if not launcher.stop(campaign.id):
        raise StateConflictError(
            f"campaign {campaign.name!r} ({campaign.status.value}) has no run started by this "
            "server; stop a run started from a terminal with Ctrl-C there"
        )
    return ActionOut(
        message=f"campaign {campaign.name!r} is stopping (running trials will be re-run on resume)",
        campaign=campaign_out(store, launcher, campaign),
    )
