"""Domain records turned into response bodies that need the store (counts, runs, spec)."""

from __future__ import annotations

from dashboard.launcher import CampaignLauncher
from dashboard.schemas.campaigns import (
    CampaignDetailOut,
    CampaignOut,
    ObjectiveOut,
    RunOut,
    StageCounts,
)
from nas.domain import CampaignRecord, TrialState
from nas.errors import SpecError
from nas.spec import CampaignSpec, parse_spec
from nas.storage import CampaignStore


def campaign_spec(campaign: CampaignRecord) -> CampaignSpec | None:
    """The campaign's validated spec, or None if it was stored by an older or foreign tool."""
    try:
        return parse_spec(campaign.spec, source=f"campaign {campaign.name!r}")
    except SpecError:
        return None


def required_spec(campaign: CampaignRecord) -> CampaignSpec:
    return parse_spec(campaign.spec, source=f"campaign {campaign.name!r}")


def campaign_out(
    store: CampaignStore, launcher: CampaignLauncher, campaign: CampaignRecord
) -> CampaignOut:
    spec = campaign_spec(campaign)
    counts = store.funnel_counts(campaign.id)
    latest = store.latest_hypervolume(campaign.id)
    run = launcher.info(campaign.id)
    return CampaignOut(
        id=campaign.id,
        name=campaign.name,
        status=campaign.status,
        space=spec.space if spec else None,
        objectives=[
            ObjectiveOut(metric=o.metric, direction=o.resolved_direction)
            for o in (spec.objectives if spec else [])
        ],
        budget_trials=spec.budget.trials if spec else None,
        counts=StageCounts(
            sampled=sum(counts[s.value] for s in TrialState),
            pending=counts[TrialState.PENDING.value],
            running=counts[TrialState.RUNNING.value],
            complete=counts[TrialState.COMPLETE.value],
            failed=counts[TrialState.FAILED.value],
            feasible=counts["feasible"],
            front=counts["front"],
        ),
        hypervolume=None if latest is None else latest.hypervolume,
        run=None if run is None else RunOut(**run.__dict__),
    )


def campaign_detail(
    store: CampaignStore, launcher: CampaignLauncher, campaign: CampaignRecord
) -> CampaignDetailOut:
    spec = campaign_spec(campaign)
    return CampaignDetailOut(
        **campaign_out(store, launcher, campaign).model_dump(),
        spec=campaign.spec,
        devices=store.devices(campaign.id),
        eval_source=spec.data.eval if spec else None,
    )
