"""Queries behind the dashboard: a page of trials sorted by any metric, scatter points, devices.

They work in SQL so that a campaign of 10,000 trials costs one page of rows, not 10,000 records:
the page's ids are chosen by one ordered, limited query, and only those trials are loaded.
Latencies "on a device" come from the measurements table (the decoder's fastest stored
measurement on that device, over precisions), so a campaign measured on several devices can be
plotted against any of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Subquery, UnaryExpression, func, select
from sqlalchemy.orm import aliased

from nas.domain import ArtifactRecord, HypervolumePoint, TrialRecord, TrialState
from nas.errors import InvalidValueError, NotFoundError
from nas.storage import guards, records, validation
from nas.storage.artifacts import validate_digest
from nas.storage.database import Database
from nas.storage.schema import (
    ArtifactRow,
    FrontMember,
    HypervolumeRow,
    ImageMetric,
    MeasurementRow,
    Trial,
    TrialMetric,
)

MAX_PAGE_SIZE = 500
SORT_BY_NUMBER = "number"
# Metrics that a device's own measurements replace, and the measurement column behind each.
DEVICE_LATENCY_COLUMNS = {
    "decode_ms_12mp": MeasurementRow.estimate_12mp_ms,
    "decode_ms_tile": MeasurementRow.p50_ms,
}
RECONSTRUCTION_KIND = "reconstruction"


@dataclass(frozen=True)
class TrialPage:
    total: int  # trials matching the filter, on all pages
    offset: int
    limit: int
    trials: list[TrialRecord]


@dataclass(frozen=True)
class TrialPoint:
    """A complete trial as a point of a scatter of metric ``x`` against metric ``y``."""

    trial_id: int
    number: int
    feasible: bool
    on_front: bool  # on the campaign's stored Pareto front (of its own objectives)
    x: float
    y: float


@dataclass(frozen=True)
class Reconstruction:
    """A stored decoded evaluation image of a complete trial, with the trial's bpp on it."""

    trial_id: int
    image: str
    sha256: str
    bpp: float | None


def _page_bounds(offset: int, limit: int) -> None:
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise InvalidValueError(f"offset must be an integer >= 0, got {offset!r}")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidValueError(f"limit must be an integer in 1..{MAX_PAGE_SIZE}, got {limit!r}")


class TrialBrowsing:
    """Read-only queries for paging and plotting; mixed into CampaignStore."""

    _db: Database

    def trial_page(
        self,
        campaign_id: int,
        *,
        state: TrialState | None = None,
        feasible: bool | None = None,
        sort: str = SORT_BY_NUMBER,
        descending: bool = False,
        offset: int = 0,
        limit: int = 50,
    ) -> TrialPage:
        """One page of the campaign's trials; ``sort`` is "number" or any metric name.

        Trials without the sort metric (pending, failed) come last in either direction; ties
        are broken by trial number.
        """
        _page_bounds(offset, limit)
        sort = validation.name(sort, "sort key", 200)
        with self._db.session(f"page through trials of campaign {campaign_id}") as session:
            guards.require_campaign(session, campaign_id)
            where: ColumnElement[bool] = Trial.campaign_id == campaign_id
            if state is not None:
                where = where & (Trial.state == TrialState(state))
            if feasible is not None:
                where = where & (Trial.feasible.is_(bool(feasible)))
            total = session.scalar(select(func.count()).select_from(Trial).where(where)) or 0
            query = select(Trial.id).where(where)
            if sort == SORT_BY_NUMBER:
                order: list[UnaryExpression[Any]] = [
                    Trial.number.desc() if descending else Trial.number.asc()
                ]
            else:
                value = aliased(TrialMetric)
                query = query.outerjoin(value, (value.trial_id == Trial.id) & (value.name == sort))
                order = [
                    value.value.is_(None).asc(),
                    value.value.desc() if descending else value.value.asc(),
                    Trial.number.asc(),
                ]
            ids = list(session.scalars(query.order_by(*order).offset(offset).limit(limit)))
            by_id = {t.id: t for t in records.load_trials(session, Trial.id.in_(ids))}
            return TrialPage(total, offset, limit, [by_id[i] for i in ids])

    def trial_points(
        self, campaign_id: int, x: str, y: str, device: str | None = None
    ) -> list[TrialPoint]:
        """Every complete trial that has both metrics, in trial-number order.

        With ``device``, the latency metrics (DEVICE_LATENCY_COLUMNS) are that device's measured
        decoder latencies, and trials not measured there are left out.
        """
        x = validation.name(x, "x metric", 200)
        y = validation.name(y, "y metric", 200)
        with self._db.session(f"read scatter points of campaign {campaign_id}") as session:
            guards.require_campaign(session, campaign_id)
            xs = self._axis(campaign_id, x, device)
            ys = self._axis(campaign_id, y, device)
            member = aliased(FrontMember)
            rows = session.execute(
                select(
                    Trial.id,
                    Trial.number,
                    Trial.feasible,
                    member.trial_id.is_not(None),
                    xs.c.value,
                    ys.c.value,
                )
                .join(xs, xs.c.trial_id == Trial.id)
                .join(ys, ys.c.trial_id == Trial.id)
                .outerjoin(
                    member, (member.trial_id == Trial.id) & (member.campaign_id == campaign_id)
                )
                .where(Trial.campaign_id == campaign_id, Trial.state == TrialState.COMPLETE)
                .order_by(Trial.number)
            )
            return [
                TrialPoint(tid, number, bool(feasible), bool(on_front), float(xv), float(yv))
                for tid, number, feasible, on_front, xv, yv in rows
            ]

    def metric_values(self, campaign_id: int, names: list[str]) -> dict[int, dict[str, float]]:
        """Per trial of the campaign that has any of them: its stored values of these metrics
        (one query, for the scatter's per-point extras such as extrapolation flags)."""
        names = [validation.name(n, "metric", 200) for n in names]
        result: dict[int, dict[str, float]] = {}
        with self._db.session(f"read metrics {names} of campaign {campaign_id}") as session:
            guards.require_campaign(session, campaign_id)
            rows = session.execute(
                select(TrialMetric.trial_id, TrialMetric.name, TrialMetric.value)
                .join(Trial, Trial.id == TrialMetric.trial_id)
                .where(Trial.campaign_id == campaign_id, TrialMetric.name.in_(names))
            )
            for trial_id, name, value in rows:
                result.setdefault(trial_id, {})[name] = float(value)
        return result

    def _axis(self, campaign_id: int, metric: str, device: str | None) -> Subquery:
        """(trial_id, value) of one metric for the campaign's trials, as a subquery."""
        if device is not None and metric in DEVICE_LATENCY_COLUMNS:
            column = DEVICE_LATENCY_COLUMNS[metric]
            return (
                select(MeasurementRow.trial_id.label("trial_id"), func.min(column).label("value"))
                .join(Trial, Trial.id == MeasurementRow.trial_id)
                .where(
                    Trial.campaign_id == campaign_id,
                    MeasurementRow.device == device,
                    MeasurementRow.part == "decoder",
                )
                .group_by(MeasurementRow.trial_id)
                .subquery()
            )
        return (
            select(TrialMetric.trial_id.label("trial_id"), TrialMetric.value.label("value"))
            .join(Trial, Trial.id == TrialMetric.trial_id)
            .where(Trial.campaign_id == campaign_id, TrialMetric.name == metric)
            .subquery()
        )

    def devices(self, campaign_id: int) -> list[str]:
        """Devices on which some decoder of the campaign was measured, sorted by name."""
        with self._db.session(f"list devices of campaign {campaign_id}") as session:
            guards.require_campaign(session, campaign_id)
            rows = session.scalars(
                select(MeasurementRow.device)
                .join(Trial, Trial.id == MeasurementRow.trial_id)
                .where(Trial.campaign_id == campaign_id, MeasurementRow.part == "decoder")
                .distinct()
                .order_by(MeasurementRow.device)
            )
            return list(rows)

    def device_latencies(self, campaign_id: int, device: str) -> dict[int, dict[str, float]]:
        """Per trial measured on ``device``: its latency metrics as measured there."""
        device = validation.name(device, "device", 200)
        result: dict[int, dict[str, float]] = {}
        with self._db.session(f"read latencies of campaign {campaign_id} on {device!r}") as session:
            guards.require_campaign(session, campaign_id)
            for metric in DEVICE_LATENCY_COLUMNS:
                axis = self._axis(campaign_id, metric, device)
                for trial_id, value in session.execute(select(axis.c.trial_id, axis.c.value)):
                    result.setdefault(trial_id, {})[metric] = float(value)
        return result

    def artifact_by_digest(self, sha256: str) -> ArtifactRecord:
        """The first recorded artifact with this content (its kind and file name)."""
        digest = validate_digest(sha256)
        with self._db.session(f"find artifact {digest}") as session:
            row = session.scalars(
                select(ArtifactRow).where(ArtifactRow.sha256 == digest).order_by(ArtifactRow.id)
            ).first()
            if row is None:
                raise NotFoundError(f"no artifact with digest {digest} is recorded")
            return records.artifact(row)

    def reconstructions(self, campaign_id: int) -> list[Reconstruction]:
        """The stored reconstructions ("<image>.png") of the campaign's complete trials."""
        with self._db.session(f"list reconstructions of campaign {campaign_id}") as session:
            guards.require_campaign(session, campaign_id)
            complete = (Trial.campaign_id == campaign_id) & (Trial.state == TrialState.COMPLETE)
            artifacts = session.execute(
                select(ArtifactRow.trial_id, ArtifactRow.filename, ArtifactRow.sha256)
                .join(Trial, Trial.id == ArtifactRow.trial_id)
                .where(complete, ArtifactRow.kind == RECONSTRUCTION_KIND)
                .order_by(ArtifactRow.trial_id, ArtifactRow.filename)
            ).all()
            bpp = {
                (trial_id, image): value
                for trial_id, image, value in session.execute(
                    select(ImageMetric.trial_id, ImageMetric.image, ImageMetric.value)
                    .join(Trial, Trial.id == ImageMetric.trial_id)
                    .where(complete, ImageMetric.name == "bpp")
                )
            }
        result = []
        for trial_id, filename, digest in artifacts:
            image = filename.removesuffix(".png")
            result.append(Reconstruction(trial_id, image, digest, bpp.get((trial_id, image))))
        return result

    def funnel_counts(self, campaign_id: int) -> dict[str, int]:
        """Trials per state, plus complete-and-feasible trials and the stored front's size."""
        with self._db.session(f"count the funnel of campaign {campaign_id}") as session:
            guards.require_campaign(session, campaign_id)
            counts = {state.value: 0 for state in TrialState}
            for state, count in session.execute(
                select(Trial.state, func.count())
                .where(Trial.campaign_id == campaign_id)
                .group_by(Trial.state)
            ):
                counts[TrialState(state).value] = count
            counts["feasible"] = (
                session.scalar(
                    select(func.count())
                    .select_from(Trial)
                    .where(
                        Trial.campaign_id == campaign_id,
                        Trial.state == TrialState.COMPLETE,
                        Trial.feasible.is_(True),
                    )
                )
                or 0
            )
            counts["front"] = (
                session.scalar(
                    select(func.count())
                    .select_from(FrontMember)
                    .where(FrontMember.campaign_id == campaign_id)
                )
                or 0
            )
            return counts

    def latest_hypervolume(self, campaign_id: int) -> HypervolumePoint | None:
        with self._db.session(f"read the hypervolume of campaign {campaign_id}") as session:
            guards.require_campaign(session, campaign_id)
            row = session.execute(
                select(HypervolumeRow.n_complete, HypervolumeRow.hypervolume)
                .where(HypervolumeRow.campaign_id == campaign_id)
                .order_by(HypervolumeRow.id.desc())
                .limit(1)
            ).one_or_none()
            return None if row is None else HypervolumePoint(row[0], row[1])
