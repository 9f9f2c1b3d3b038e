"""Storage of funnel campaigns: a row per finished stage and the candidates that moved on.

The first stage (a million sampled configs, most screened out by MACs) stores its counts only;
candidates are stored from the predict stage on. One config is one candidate row per campaign
(unique config hash): a later stage moves it on (`stage_reached`) and merges its `values`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.orm import Session

from nas.errors import InvalidValueError
from nas.funnel.domain import FunnelCandidate, FunnelStageRecord
from nas.storage import guards, validation
from nas.storage.database import Database
from nas.storage.schema import FunnelCandidateRow, FunnelStageRow, utc_now


def _count(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidValueError(f"{what} must be an integer >= 0, got {value!r}")
    return value


def _stage_record(row: FunnelStageRow) -> FunnelStageRecord:
    return FunnelStageRecord(
        stage=row.stage,
        position=row.position,
        n_in=row.n_in,
        n_out=row.n_out,
        seconds=row.seconds,
        details=row.details,
        finished_at=row.finished_at,
    )


def _candidate_record(row: FunnelCandidateRow) -> FunnelCandidate:
    return FunnelCandidate(
        config_hash=row.config_hash,
        config=row.config,
        stage_reached=row.stage_reached,
        values=row.values,
        trial_id=row.trial_id,
    )


class FunnelStore:
    """Mixin of CampaignStore: funnel stages and candidates."""

    _db: Database

    def record_funnel_stage(
        self,
        campaign_id: int,
        record: FunnelStageRecord,
        candidates: Sequence[FunnelCandidate] = (),
    ) -> None:
        """Store a finished stage's row (replacing a previous run's) and its candidates, at once.

        One transaction: a stage interrupted before this call has left nothing behind, so a rerun
        starts it afresh; a stored row means its candidates are stored too.
        """
        stage = validation.name(record.stage, "funnel stage", 50)
        values: dict[str, Any] = {
            "position": _count(record.position, f"position of stage {stage!r}"),
            "n_in": _count(record.n_in, f"n_in of stage {stage!r}"),
            "n_out": _count(record.n_out, f"n_out of stage {stage!r}"),
            "seconds": validation.finite(record.seconds, f"seconds of stage {stage!r}"),
            "details": validation.json_document(record.details, f"details of stage {stage!r}"),
        }
        if values["n_out"] > values["n_in"]:
            raise InvalidValueError(
                f"stage {stage!r} cannot let out more configs ({values['n_out']}) "
                f"than came in ({values['n_in']})"
            )
        checked = self._checked_batch(candidates)
        with self._db.session(f"record funnel stage {stage!r}", write=True) as session:
            guards.require_campaign(session, campaign_id, lock=True)
            self._upsert(session, campaign_id, checked)
            session.execute(
                delete(FunnelStageRow).where(
                    FunnelStageRow.campaign_id == campaign_id, FunnelStageRow.stage == stage
                )
            )
            session.add(
                FunnelStageRow(
                    campaign_id=campaign_id, stage=stage, finished_at=utc_now(), **values
                )
            )

    def funnel_stages(self, campaign_id: int) -> list[FunnelStageRecord]:
        """The campaign's finished stages in funnel order (empty for a standard campaign)."""
        with self._db.session(f"read funnel stages of campaign {campaign_id}") as session:
            guards.require_campaign(session, campaign_id)
            rows = session.scalars(
                select(FunnelStageRow)
                .where(FunnelStageRow.campaign_id == campaign_id)
                .order_by(FunnelStageRow.position)
            )
            return [_stage_record(row) for row in rows]

    def store_funnel_candidates(
        self, campaign_id: int, candidates: Sequence[FunnelCandidate]
    ) -> None:
        """Insert new candidates and move known ones on (values merged), in one transaction."""
        checked = self._checked_batch(candidates)
        with self._db.session(f"store funnel candidates of {campaign_id}", write=True) as session:
            guards.require_campaign(session, campaign_id, lock=True)
            self._upsert(session, campaign_id, checked)

    def _upsert(self, session: Session, campaign_id: int, checked: list[dict[str, Any]]) -> None:
        if not checked:
            return
        known = {
            h: (row_id, values, trial_id)
            for row_id, h, values, trial_id in session.execute(
                select(
                    FunnelCandidateRow.id,
                    FunnelCandidateRow.config_hash,
                    FunnelCandidateRow.values,
                    FunnelCandidateRow.trial_id,
                ).where(FunnelCandidateRow.campaign_id == campaign_id)
            )
        }
        table = cast(Table, FunnelCandidateRow.__table__)
        new = [{**c, "campaign_id": campaign_id} for c in checked if c["config_hash"] not in known]
        if new:
            session.execute(table.insert(), new)
        moved = [
            self._moved(known[c["config_hash"]], c) for c in checked if c["config_hash"] in known
        ]
        if moved:
            statement = (
                update(table)
                .where(table.c.id == bindparam("row_id"))
                .values(
                    stage_reached=bindparam("new_stage"),
                    values=bindparam("new_values"),
                    trial_id=bindparam("new_trial_id"),
                )
            )
            session.connection().execute(statement, moved)

    def _checked_batch(self, candidates: Sequence[FunnelCandidate]) -> list[dict[str, Any]]:
        checked = [self._checked(c) for c in candidates]
        hashes = [c["config_hash"] for c in checked]
        if len(set(hashes)) != len(hashes):
            raise InvalidValueError("a config hash is given twice in one batch of candidates")
        return checked

    def funnel_candidates(
        self, campaign_id: int, stages: Sequence[str] | None = None
    ) -> list[FunnelCandidate]:
        """Candidates (those whose `stage_reached` is in `stages`, or all), in insertion order."""
        with self._db.session(f"read funnel candidates of campaign {campaign_id}") as session:
            guards.require_campaign(session, campaign_id)
            query = select(FunnelCandidateRow).where(FunnelCandidateRow.campaign_id == campaign_id)
            if stages is not None:
                query = query.where(FunnelCandidateRow.stage_reached.in_(list(stages)))
            rows = session.scalars(query.order_by(FunnelCandidateRow.id))
            return [_candidate_record(row) for row in rows]

    @staticmethod
    def _checked(candidate: FunnelCandidate) -> dict[str, Any]:
        key = validation.name(candidate.config_hash, "config hash", 128)
        trial_id = candidate.trial_id
        if trial_id is not None:
            _count(trial_id, f"trial id of candidate {key[:12]}")
        return {
            "config_hash": key,
            "config": validation.json_document(candidate.config, f"config {key[:12]}"),
            "stage_reached": validation.name(candidate.stage_reached, "stage reached", 50),
            "values": validation.json_document(candidate.values, f"values of {key[:12]}"),
            "trial_id": trial_id,
        }

    @staticmethod
    def _moved(
        known: tuple[int, dict[str, Any], int | None], candidate: dict[str, Any]
    ) -> dict[str, Any]:
        row_id, old_values, old_trial_id = known
        trial_id = candidate["trial_id"]
        return {
            "row_id": row_id,
            "new_stage": candidate["stage_reached"],
            "new_values": {**(old_values or {}), **candidate["values"]},
            "new_trial_id": old_trial_id if trial_id is None else trial_id,
        }
