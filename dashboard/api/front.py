"""The Pareto view of a campaign: scatter and front in any two metrics, hypervolume, best."""

from __future__ import annotations

import dataclasses

from fastapi import APIRouter, Depends, Query

from codec.anchor_extrapolation import FRACTION_KEY, IMAGES_KEY, is_anchor_ratio, ratio_note
from dashboard.api.params import CampaignId
from dashboard.auth import reader
from dashboard.deps import app_store
from dashboard.schemas.common import ERROR_RESPONSES, ArtifactOut, MeasurementOut, TrialOut
from dashboard.schemas.results import BestOut, FrontOut, HypervolumeOut, HypervolumePointOut
from dashboard.views import campaign_spec
from nas.domain import CampaignRecord, TrialRecord, TrialState
from nas.metrics import KNOWN_METRICS
from nas.ratings import RATING_METRIC
from nas.selection import best_for_budget, best_in_campaign
from nas.storage import CampaignStore
from nas.storage.browsing import RECONSTRUCTION_KIND, TrialPoint

router = APIRouter(
    prefix="/api/campaigns",
    tags=["pareto"],
    responses=ERROR_RESPONSES,
    dependencies=[Depends(reader)],
)


def metric_direction(campaign: CampaignRecord, metric: str) -> str:
    """The campaign's own direction for one of its objectives, else the metric's natural one."""
    spec = campaign_spec(campaign)
    for objective in spec.objectives if spec else []:
        if objective.metric == metric:
            return objective.resolved_direction
    info = KNOWN_METRICS.get(metric)
    if info is not None:
        return info.direction
    return "maximize" if metric == RATING_METRIC else "minimize"


def objective_metrics(campaign: CampaignRecord) -> set[str]:
    spec = campaign_spec(campaign)
    return {o.metric for o in spec.objectives} if spec else set()


def front_2d(points: list[TrialPoint], x_min: bool, y_min: bool) -> list[int]:
    """Ids of the feasible points no other feasible point beats in both metrics, by x."""
    sx, sy = (1.0 if x_min else -1.0), (1.0 if y_min else -1.0)
    ordered = sorted(
        (p for p in points if p.feasible), key=lambda p: (sx * p.x, sy * p.y, p.number)
    )
    front, best_y = [], float("inf")
    for p in ordered:
        if sy * p.y < best_y:
            front.append(p.trial_id)
            best_y = sy * p.y
    return front


def extrapolation_notes(
    store: CampaignStore, campaign_id: int, points: list[TrialPoint], x: str, y: str
) -> tuple[str | None, list[str | None]]:
    """The axis metric that is an anchor ratio (y first), and per point the note of its
    extrapolation (None where it was not extrapolated)."""
    ratio = next((m for m in (y, x) if is_anchor_ratio(m)), None)
    if ratio is None:
        return None, [None] * len(points)
    stored = store.metric_values(campaign_id, [FRACTION_KEY, IMAGES_KEY])
    return ratio, [ratio_note(ratio, stored.get(p.trial_id, {})) for p in points]


@router.get("/{campaign_id}/front", response_model=FrontOut)
def campaign_front(
    campaign_id: CampaignId,
    x: str = Query("decode_ms_12mp", min_length=1, max_length=200),
    y: str = Query("quality_ratio_vs_jpeg", min_length=1, max_length=200),
    device: str | None = Query(
        None, min_length=1, max_length=200, description="latencies measured on this device"
    ),
    store: CampaignStore = Depends(app_store),
) -> FrontOut:
    """Every complete trial as a point (feasible or not), the stored front, and the front of
    the feasible points in these two metrics."""
    campaign = store.campaign(campaign_id)
    points = store.trial_points(campaign_id, x, y, device=device)
    x_dir, y_dir = metric_direction(campaign, x), metric_direction(campaign, y)
    ratio, notes = extrapolation_notes(store, campaign_id, points, x, y)
    return FrontOut(
        x=x,
        y=y,
        x_direction=x_dir,
        y_direction=y_dir,
        device=device,
        trial_ids=[p.trial_id for p in points],
        numbers=[p.number for p in points],
        xs=[p.x for p in points],
        ys=[p.y for p in points],
        feasible=[p.feasible for p in points],
        stored_front=[p.on_front for p in points],
        extrapolated_metric=ratio,
        extrapolated=notes,
        front_ids=front_2d(points, x_dir == "minimize", y_dir == "minimize"),
        best_from_front=device is None and {x, y} <= objective_metrics(campaign),
    )


@router.get("/{campaign_id}/hypervolume", response_model=HypervolumeOut)
def hypervolume(
    campaign_id: CampaignId,
    max_points: int = Query(1000, ge=2, le=100_000, description="thin a long history"),
    store: CampaignStore = Depends(app_store),
) -> HypervolumeOut:
    """The hypervolume after each recorded front update, thinned evenly (last point kept)."""
    history = store.hypervolume_history(campaign_id)
    total = len(history)
    if total > max_points:
        step = (total - 1) / (max_points - 1)
        history = [history[round(i * step)] for i in range(max_points)]
    return HypervolumeOut(
        total=total,
        points=[
            HypervolumePointOut(n_complete=p.n_complete, hypervolume=p.hypervolume) for p in history
        ],
    )


@router.get("/{campaign_id}/devices", response_model=list[str])
def devices(campaign_id: CampaignId, store: CampaignStore = Depends(app_store)) -> list[str]:
    return store.devices(campaign_id)


def budget_candidates(
    store: CampaignStore, campaign_id: int, budget_metric: str, quality: str, device: str | None
) -> list[TrialRecord]:
    """The complete trials that have both metrics, as records carrying just those two.

    best_for_budget reads a trial's state, number and these two metrics only; one SQL query
    gives them for 10,000 trials in milliseconds, where full records take seconds. With a
    device, its measured latencies replace the stored ones (trials not measured there drop out).
    """
    return [
        TrialRecord(
            id=p.trial_id,
            campaign_id=campaign_id,
            number=p.number,
            state=TrialState.COMPLETE,
            config={},
            config_hash="",
            attempts=0,
            error=None,
            metrics={budget_metric: p.x, quality: p.y},
            objectives=None,
            feasible=p.feasible,
        )
        for p in store.trial_points(campaign_id, budget_metric, quality, device=device)
    ]


@router.get("/{campaign_id}/best", response_model=BestOut)
def best(
    campaign_id: CampaignId,
    decode_ms: float = Query(gt=0, le=1e9, description="budget for a 12 MP decode (ms)"),
    device: str | None = Query(None, min_length=1, max_length=200),
    quality: str = Query("quality_ratio_vs_jpeg", min_length=1, max_length=200),
    store: CampaignStore = Depends(app_store),
) -> BestOut:
    """The best trial whose 12 MP decode fits the budget (the CLI's `codecnas best` answer),
    or, when none fits, the nearest one with fits=false."""
    campaign = store.campaign(campaign_id)
    budget_metric = "decode_ms_12mp"
    if device is None and quality in KNOWN_METRICS:
        # Exactly the CLI's answer (`codecnas best`): from the stored front when both metrics
        # are objectives of the campaign.
        choice = best_in_campaign(store, campaign_id, decode_ms, budget_metric, quality)
    else:
        choice = best_for_budget(
            budget_candidates(store, campaign_id, budget_metric, quality, device),
            decode_ms,
            budget_metric=budget_metric,
            quality_metric=quality,
            lower_quality_is_better=metric_direction(campaign, quality) == "minimize",
        )
    chosen = None if choice.trial is None else store.trial(choice.trial.id)
    if chosen is not None and device is not None:
        # Report the latencies the choice was made on: the device's own.
        measured = store.device_latencies(campaign_id, device).get(chosen.id, {})
        chosen = dataclasses.replace(chosen, metrics={**chosen.metrics, **measured})
    return BestOut(
        fits=choice.fits,
        message=choice.message,
        budget=choice.budget,
        budget_metric=choice.budget_metric,
        quality_metric=choice.quality_metric,
        device=device,
        trial=None if chosen is None else TrialOut.of(chosen),
        objectives=None if chosen is None else chosen.objectives,
        measurements=[]
        if chosen is None
        else [MeasurementOut.of(m) for m in store.measurements(chosen.id)],
        artifacts=[]
        if chosen is None
        else [
            ArtifactOut.of(a) for a in store.artifacts(chosen.id) if a.kind != RECONSTRUCTION_KIND
        ],
    )
