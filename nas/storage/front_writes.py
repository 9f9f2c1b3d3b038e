"""Writes of CampaignStore that act on a whole campaign: its Pareto front and hypervolume log,
and putting its unfinished trials back in the queue (the connections belong to CampaignStore)."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from nas.domain import TrialRecord, TrialState
from nas.errors import InvalidValueError, NotFoundError, StateConflictError
from nas.storage import guards, records, validation
from nas.storage.database import Database
from nas.storage.retrying import retry_transient
from nas.storage.schema import FrontMember, HypervolumeRow, Trial, utc_now


class FrontWrites:
    _db: Database

    def requeue_unfinished(self, campaign_id: int) -> list[TrialRecord]:
        """RUNNING -> PENDING (attempts kept); returns every PENDING trial.

        Ignores leases: for an operator who knows no controller runs. Controllers never call it;
        they take over only expired leases (leases.py), so a live controller keeps its trials.
        """
        with self._db.session(f"requeue trials of campaign {campaign_id}", write=True) as session:
            guards.require_campaign(session, campaign_id, lock=True)
            session.execute(
                update(Trial)
                .where(Trial.campaign_id == campaign_id, Trial.state == TrialState.RUNNING)
                .values(
                    {
                        Trial.state: TrialState.PENDING,
                        Trial.worker: None,
                        Trial.lease_owner: None,
                        Trial.lease_expires_at: None,
                    }
                )
                .execution_options(synchronize_session=False)
            )
            return records.load_trials(
                session,
                (Trial.campaign_id == campaign_id) & (Trial.state == TrialState.PENDING),
            )

    # ---------------------------------------------------------------- Pareto front

    @retry_transient
    def replace_front(
        self, campaign_id: int, trial_ids: list[int], hypervolume: float, n_complete: int
    ) -> None:
        """Make ``trial_ids`` (COMPLETE trials of the campaign) its front; log the hypervolume."""
        ids = guards.distinct_ids(trial_ids)
        hypervolume = validation.finite(hypervolume, "hypervolume")
        if isinstance(n_complete, bool) or not isinstance(n_complete, int) or n_complete < 0:
            raise InvalidValueError(f"n_complete must be an integer >= 0, got {n_complete!r}")
        with self._db.session(
            f"replace the front of campaign {campaign_id}", write=True
        ) as session:
            guards.require_campaign(session, campaign_id, lock=True)
            # "+ 0": look the ids up by primary key; on the campaign index SQLite would read
            # every trial of the campaign, at each front update.
            rows = session.execute(
                select(Trial.id, Trial.state).where(
                    Trial.campaign_id + 0 == campaign_id, Trial.id.in_(ids)
                )
            )
            states = {trial_id: state for trial_id, state in rows}
            missing = [i for i in ids if i not in states]
            if missing:
                raise NotFoundError(f"trials {missing} not found in campaign {campaign_id}")
            unfinished = [i for i in ids if states[i] != TrialState.COMPLETE]
            if unfinished:
                raise StateConflictError(
                    f"trials {unfinished} of campaign {campaign_id} are not complete; "
                    "only complete trials can be on the front"
                )
            session.execute(delete(FrontMember).where(FrontMember.campaign_id == campaign_id))
            session.add_all(FrontMember(campaign_id=campaign_id, trial_id=i) for i in ids)
            session.add(
                HypervolumeRow(
                    campaign_id=campaign_id,
                    n_complete=n_complete,
                    hypervolume=hypervolume,
                    recorded_at=utc_now(),
                )
            )
