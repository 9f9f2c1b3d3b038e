"""Reading rows back as the domain's plain records (no ORM object leaves a session)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from nas.domain import ArtifactRecord, CampaignRecord, Measurement, TrialRecord
from nas.storage.schema import ArtifactRow, Campaign, MeasurementRow, Trial, TrialMetric


def campaign_record(row: Campaign) -> CampaignRecord:
    return CampaignRecord(id=row.id, name=row.name, spec=row.spec, status=row.status)


def trial_record(row: Trial, metrics: dict[str, float]) -> TrialRecord:
    return TrialRecord(
        id=row.id,
        campaign_id=row.campaign_id,
        number=row.number,
        state=row.state,
        config=row.config,
        config_hash=row.config_hash,
        attempts=row.attempts,
        error=row.error,
        metrics=metrics,
        objectives=row.objectives,
        feasible=row.feasible,
        worker=row.worker,
        rung=row.rung,
        parent_trial_id=row.parent_trial_id,
        initialisation=row.initialisation,
    )


def load_trials(session: Session, where: ColumnElement[bool]) -> list[TrialRecord]:
    """Trials matching ``where`` (a condition on Trial), ordered by number, with their metrics.

    Two queries whatever the number of trials: the metrics are fetched with the same condition
    through a join, not with a list of ids (SQLite caps the number of bound parameters).
    """
    rows = session.scalars(select(Trial).where(where).order_by(Trial.campaign_id, Trial.number))
    trials = list(rows)
    if not trials:
        return []
    metrics: defaultdict[int, dict[str, float]] = defaultdict(dict)
    metric_rows = session.execute(
        select(TrialMetric.trial_id, TrialMetric.name, TrialMetric.value)
        .join(Trial, Trial.id == TrialMetric.trial_id)
        .where(where)
        .order_by(TrialMetric.trial_id, TrialMetric.name)
    )
    for trial_id, name, value in metric_rows:
        metrics[trial_id][name] = value
    return [trial_record(row, metrics[row.id]) for row in trials]


def measurement(row: MeasurementRow) -> Measurement:
    return Measurement(
        device=row.device,
        backend=row.backend,
        part=row.part,
        precision=row.precision,
        tile=row.tile,
        warmup=row.warmup,
        runs=row.runs,
        p50_ms=row.p50_ms,
        p90_ms=row.p90_ms,
        estimate_12mp_ms=row.estimate_12mp_ms,
        cold_ms=row.cold_ms,
    )


def measurement_row(trial_id: int, value: Measurement, measured_at: dt.datetime) -> MeasurementRow:
    return MeasurementRow(
        trial_id=trial_id,
        device=value.device,
        backend=value.backend,
        part=value.part,
        precision=value.precision,
        tile=value.tile,
        warmup=value.warmup,
        runs=value.runs,
        p50_ms=float(value.p50_ms),
        p90_ms=float(value.p90_ms),
        estimate_12mp_ms=float(value.estimate_12mp_ms),
        cold_ms=None if value.cold_ms is None else float(value.cold_ms),
        measured_at=measured_at,
    )


def artifact(row: ArtifactRow) -> ArtifactRecord:
    return ArtifactRecord(kind=row.kind, filename=row.filename, sha256=row.sha256, size=row.size)
