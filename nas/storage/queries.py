"""The read side of CampaignStore: campaigns, trials, results, the Pareto front.

Each method reads in one transaction (a consistent snapshot) and returns plain domain records.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

from sqlalchemy import ColumnElement, func, select

from nas.domain import (
    ArtifactRecord,
    CampaignRecord,
    HypervolumePoint,
    JsonDict,
    Measurement,
    StoredCheckpoint,
    TrialRecord,
    TrialState,
)
from nas.errors import InvalidValueError, NotFoundError
from nas.storage import guards, records
from nas.storage.artifacts import ArtifactStore
from nas.storage.database import Database
from nas.storage.retrying import retry_transient
from nas.storage.schema import (
    ArtifactRow,
    Campaign,
    FrontMember,
    HypervolumeRow,
    ImageMetric,
    MeasurementRow,
    Trial,
)


class CampaignQueries:
    """Read-only queries; CampaignStore adds the writes and owns the connections."""

    _db: Database
    _artifacts: ArtifactStore

    @retry_transient
    def campaign(self, ref: int | str) -> CampaignRecord:
        """A campaign by id (int) or name (str)."""
        with self._db.session(f"read campaign {ref!r}") as session:
            if isinstance(ref, bool) or not isinstance(ref, int | str):
                raise InvalidValueError(f"campaign reference must be an id or a name, got {ref!r}")
            where = Campaign.id == ref if isinstance(ref, int) else Campaign.name == ref
            row = session.scalars(select(Campaign).where(where)).one_or_none()
            if row is None:
                raise NotFoundError(f"campaign {ref!r} not found")
            return records.campaign_record(row)

    @retry_transient
    def campaigns(self) -> list[CampaignRecord]:
        with self._db.session("list campaigns") as session:
            rows = session.scalars(select(Campaign).order_by(Campaign.id))
            return [records.campaign_record(row) for row in rows]

    @retry_transient
    def trial(self, trial_id: int) -> TrialRecord:
        with self._db.session(f"read trial {trial_id}") as session:
            return guards.one_trial(session, trial_id)

    @retry_transient
    def trials(self, campaign_id: int, state: TrialState | None = None) -> list[TrialRecord]:
        """The campaign's trials ordered by number, optionally only those in ``state``."""
        with self._db.session(f"list trials of campaign {campaign_id}") as session:
            guards.require_campaign(session, campaign_id)
            where: ColumnElement[bool] = Trial.campaign_id == campaign_id
            if state is not None:
                where = where & (Trial.state == TrialState(state))
            return records.load_trials(session, where)

    def trials_by_config_hash(
        self, config_hash: str, campaign_id: int | None = None
    ) -> list[TrialRecord]:
        """Trials of one configuration (in one campaign or all), to reuse or skip duplicates."""
        with self._db.session(f"find trials with config hash {config_hash!r}") as session:
            where: ColumnElement[bool] = Trial.config_hash == config_hash
            if campaign_id is not None:
                guards.require_campaign(session, campaign_id)
                where = where & (Trial.campaign_id == campaign_id)
            return records.load_trials(session, where)

    @retry_transient
    def count_trials(self, campaign_id: int) -> dict[TrialState, int]:
        with self._db.session(f"count trials of campaign {campaign_id}") as session:
            guards.require_campaign(session, campaign_id)
            counts = dict.fromkeys(TrialState, 0)
            rows = session.execute(
                select(Trial.state, func.count())
                .where(Trial.campaign_id == campaign_id)
                .group_by(Trial.state)
            )
            for state, count in rows:
                counts[TrialState(state)] = count
            return counts

    def per_image_metrics(self, trial_id: int) -> dict[str, dict[str, float]]:
        with self._db.session(f"read per-image metrics of trial {trial_id}") as session:
            guards.require_trial(session, trial_id)
            result: dict[str, dict[str, float]] = {}
            rows = session.scalars(
                select(ImageMetric)
                .where(ImageMetric.trial_id == trial_id)
                .order_by(ImageMetric.image, ImageMetric.name)
            )
            for row in rows:
                result.setdefault(row.image, {})[row.name] = row.value
            return result

    def measurements(self, trial_id: int) -> list[Measurement]:
        with self._db.session(f"read measurements of trial {trial_id}") as session:
            guards.require_trial(session, trial_id)
            rows = session.scalars(
                select(MeasurementRow)
                .where(MeasurementRow.trial_id == trial_id)
                .order_by(MeasurementRow.id)
            )
            return [records.measurement(row) for row in rows]

    def artifacts(self, trial_id: int) -> list[ArtifactRecord]:
        with self._db.session(f"read artifacts of trial {trial_id}") as session:
            guards.require_trial(session, trial_id)
            rows = session.scalars(
                select(ArtifactRow).where(ArtifactRow.trial_id == trial_id).order_by(ArtifactRow.id)
            )
            return [records.artifact(row) for row in rows]

    def artifact_path(self, sha256: str) -> Path:
        """The stored file with this digest (ValueError for a malformed digest)."""
        return self._artifacts.path(sha256)

    @retry_transient
    def checkpoints(self, campaign_id: int, kind: str = "checkpoint") -> list[StoredCheckpoint]:
        """The completed trials of a campaign that stored trained weights, by trial number.

        One query (the artifacts joined to their trials): campaigns whose trials store no
        weights (fake executors) cost nothing more than an empty result.
        """
        with self._db.session(f"read checkpoints of campaign {campaign_id}") as session:
            rows = session.execute(
                select(Trial.id, Trial.number, Trial.config, Trial.config_hash, ArtifactRow.sha256)
                .join(ArtifactRow, ArtifactRow.trial_id == Trial.id)
                .where(
                    Trial.campaign_id == campaign_id,
                    Trial.state == TrialState.COMPLETE,
                    ArtifactRow.kind == kind,
                )
                .order_by(Trial.number, ArtifactRow.id)
            )
            found: dict[int, StoredCheckpoint] = {}
            for trial_id, number, config, config_hash, sha256 in rows:
                found.setdefault(
                    trial_id, StoredCheckpoint(trial_id, number, config, config_hash, sha256)
                )
            return list(found.values())

    def sampler_state(self, trial_id: int) -> JsonDict | None:
        with self._db.session(f"read sampler state of trial {trial_id}") as session:
            row = session.execute(
                select(Trial.sampler_state).where(Trial.id == trial_id)
            ).one_or_none()
            if row is None:
                raise NotFoundError(f"trial {trial_id!r} not found")
            return cast(JsonDict | None, row[0])

    @retry_transient
    def front(self, campaign_id: int) -> list[TrialRecord]:
        with self._db.session(f"read the front of campaign {campaign_id}") as session:
            guards.require_campaign(session, campaign_id)
            members = select(FrontMember.trial_id).where(FrontMember.campaign_id == campaign_id)
            return records.load_trials(session, Trial.id.in_(members))

    @retry_transient
    def hypervolume_history(self, campaign_id: int) -> list[HypervolumePoint]:
        with self._db.session(f"read hypervolume history of campaign {campaign_id}") as session:
            guards.require_campaign(session, campaign_id)
            rows = session.execute(
                select(HypervolumeRow.n_complete, HypervolumeRow.hypervolume)
                .where(HypervolumeRow.campaign_id == campaign_id)
                .order_by(HypervolumeRow.id)
            )
            return [HypervolumePoint(n_complete=n, hypervolume=hv) for n, hv in rows]
