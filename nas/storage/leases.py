"""Trial leases: several controllers on one campaign, each trial run by exactly one of them.

The controller that starts a trial takes a lease on it (``lease_owner``, ``lease_expires_at``) and
renews it while the trial runs. Another controller only takes a trial that is PENDING or whose
lease has expired (its owner died or lost the database). Claims are atomic: on Postgres a
``SELECT ... FOR UPDATE SKIP LOCKED`` picks a row nobody else is claiming; on SQLite the write
transaction (BEGIN IMMEDIATE) serialises claimers; on both the UPDATE repeats the claim condition
and its rowcount decides who won. Creating a trial checks the budget and the config's uniqueness
in the same transaction that inserts it, under the campaign row lock (Postgres) or the write lock
(SQLite), so N controllers never create more than the budget nor the same config twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, true, update
from sqlalchemy.orm import Session

from nas.domain import JsonDict, TrialRecord, TrialState
from nas.errors import DuplicateError, InvalidValueError
from nas.storage import guards, records, validation
from nas.storage.database import Database
from nas.storage.retrying import retry_transient
from nas.storage.schema import Trial, utc_now


def _expired(now: dt.datetime, claimer: str) -> ColumnElement[bool]:
    """An ended lease held by someone else: a controller never re-claims its own trials (they
    are still in its executor, their lease lapsed only because the database was away)."""
    return and_(
        or_(Trial.lease_expires_at.is_(None), Trial.lease_expires_at < now),
        or_(Trial.lease_owner.is_(None), Trial.lease_owner != claimer),
    )


def lease_free(now: dt.datetime, claimer: str) -> ColumnElement[bool]:
    """A trial ``claimer`` may take: PENDING, or RUNNING with an expired (or no) lease."""
    return or_(
        Trial.state == TrialState.PENDING,
        and_(Trial.state == TrialState.RUNNING, _expired(now, claimer)),
    )


def _lease_values(owner: str, lease_seconds: float, now: dt.datetime) -> dict[Any, Any]:
    return {
        Trial.state: TrialState.RUNNING,
        Trial.attempts: Trial.attempts + 1,
        Trial.started_at: now,
        Trial.worker: None,
        Trial.lease_owner: owner,
        Trial.lease_expires_at: now + dt.timedelta(seconds=lease_seconds),
    }


def _check_lease_args(owner: str, lease_seconds: float) -> str:
    if isinstance(lease_seconds, bool) or not isinstance(lease_seconds, int | float):
        raise InvalidValueError(f"lease_seconds must be a number, got {lease_seconds!r}")
    if not lease_seconds > 0:
        raise InvalidValueError(f"lease_seconds must be > 0, got {lease_seconds!r}")
    return validation.name(owner, "lease owner", 200)


def _first_free(
    session: Session, campaign_id: int, now: dt.datetime, claimer: str, lock: bool = True
) -> int | None:
    """The lowest-numbered pending trial, else the lowest-numbered one with an expired lease.

    Two queries, each an equality on (campaign_id, state) that the index answers without
    scanning the campaign (one OR'ed condition would scan 100k finished trials per claim).
    Postgres skips rows another claimer holds; SQLite ignores FOR UPDATE (BEGIN IMMEDIATE
    serialises claimers instead).
    """
    expired = _expired(now, claimer)
    for state, extra in ((TrialState.PENDING, true()), (TrialState.RUNNING, expired)):
        query = (
            select(Trial.id)
            .where(Trial.campaign_id == campaign_id, Trial.state == state, extra)
            # "+ 0": sort the few matches, instead of letting SQLite walk the (campaign, number)
            # index in order and test every trial of the campaign (O(n) per claim).
            .order_by(Trial.number + 0)
            .limit(1)
        )
        found = session.scalar(query.with_for_update(skip_locked=True) if lock else query)
        if found is not None:
            return int(found)
    return None


class LeaseStore:
    """The lease operations of CampaignStore (which owns the connections)."""

    _db: Database

    @retry_transient
    def claim_next_trial(
        self, campaign_id: int, owner: str, lease_seconds: float
    ) -> TrialRecord | None:
        """Start the lowest-numbered free trial of the campaign under ``owner``'s lease.

        None when no trial is free. ``attempts`` counts one more start, as for ``start_trial``.
        """
        owner = _check_lease_args(owner, lease_seconds)
        # A read first: usually nothing is free, and a read takes no write lock.
        with self._db.session(f"look for a free trial of campaign {campaign_id}") as session:
            if _first_free(session, campaign_id, utc_now(), owner, lock=False) is None:
                return None
        with self._db.session(f"claim a trial of campaign {campaign_id}", write=True) as session:
            now = utc_now()
            candidate = _first_free(session, campaign_id, now, owner)
            if candidate is None:
                return None
            claim = (
                update(Trial)
                .where(Trial.id == candidate, lease_free(now, owner))
                .values(_lease_values(owner, lease_seconds, now))
            )
            if guards.rowcount(session, claim) != 1:
                return None  # lost a race; the caller asks again
            return guards.one_trial(session, candidate)

    @retry_transient
    def create_leased_trial(
        self,
        campaign_id: int,
        config: JsonDict,
        config_hash: str,
        *,
        owner: str,
        lease_seconds: float,
        budget: int,
    ) -> TrialRecord | None:
        """A new RUNNING trial leased to ``owner``; None when the campaign has ``budget`` trials.

        DuplicateError when another controller already created a trial of this config. Safe to
        retry: if a retried call finds the trial it created itself (same hash, same owner, still
        on its first attempt), it returns that trial instead of inserting a second one.
        """
        owner = _check_lease_args(owner, lease_seconds)
        config = validation.json_document(config, "trial config")
        config_hash = validation.name(config_hash, "config hash", 128)
        with self._db.session(f"create a trial in campaign {campaign_id}", write=True) as session:
            guards.require_campaign(session, campaign_id, lock=True)
            existing = session.execute(
                # "+ 0" keeps SQLite on the config_hash index (a handful of rows) rather than
                # the campaign index (every trial of the campaign).
                select(Trial.id, Trial.lease_owner, Trial.attempts).where(
                    Trial.campaign_id + 0 == campaign_id, Trial.config_hash == config_hash
                )
            ).first()
            if existing is not None:
                if existing.lease_owner == owner and existing.attempts == 1:
                    return guards.one_trial(session, existing.id)
                raise DuplicateError(
                    f"config {config_hash!r} already has a trial in campaign {campaign_id}"
                )
            last = session.scalar(
                select(func.max(Trial.number)).where(Trial.campaign_id == campaign_id)
            )
            number = 0 if last is None else last + 1
            if number >= budget:
                return None
            now = utc_now()
            row = Trial(
                campaign_id=campaign_id,
                number=number,
                config=config,
                config_hash=config_hash,
                state=TrialState.RUNNING,
                attempts=1,
                created_at=now,
                started_at=now,
                lease_owner=owner,
                lease_expires_at=now + dt.timedelta(seconds=lease_seconds),
            )
            session.add(row)
            session.flush()
            return records.trial_record(row, {})

    @retry_transient
    def renew_leases(self, owner: str, lease_seconds: float, campaign_id: int | None = None) -> int:
        """Push back the expiry of every running trial ``owner`` leases; returns how many.

        ``campaign_id`` (the owner's campaign) lets the index find them without a table scan.
        """
        owner = _check_lease_args(owner, lease_seconds)
        with self._db.session(f"renew the leases of {owner!r}", write=True) as session:
            now = utc_now()
            statement = (
                update(Trial)
                .where(Trial.lease_owner == owner, Trial.state == TrialState.RUNNING)
                .values({Trial.lease_expires_at: now + dt.timedelta(seconds=lease_seconds)})
            )
            if campaign_id is not None:
                statement = statement.where(Trial.campaign_id == campaign_id)
            return guards.rowcount(session, statement)

    @retry_transient
    def expire_leases(self, campaign_id: int, owners: Collection[str]) -> int:
        """End the leases of ``owners`` known to be dead, so their trials can be taken now."""
        if not owners:
            return 0
        with self._db.session(f"expire leases in campaign {campaign_id}", write=True) as session:
            statement = (
                update(Trial)
                .where(
                    Trial.campaign_id == campaign_id,
                    Trial.state == TrialState.RUNNING,
                    Trial.lease_owner.in_(list(owners)),
                )
                .values({Trial.lease_expires_at: None})
            )
            return guards.rowcount(session, statement)

    @retry_transient
    def lease_owners(self, campaign_id: int) -> list[str]:
        """The owners of the campaign's running trials' leases, live or not."""
        with self._db.session(f"list lease owners of campaign {campaign_id}") as session:
            rows = session.scalars(
                select(Trial.lease_owner)
                .where(
                    Trial.campaign_id == campaign_id,
                    Trial.state == TrialState.RUNNING,
                    Trial.lease_owner.is_not(None),
                )
                .distinct()
            )
            return sorted(str(owner) for owner in rows)

    @retry_transient
    def count_unfinished(self, campaign_id: int) -> int:
        with self._db.session(f"count unfinished trials of campaign {campaign_id}") as session:
            return int(
                session.scalar(
                    select(func.count()).where(
                        Trial.campaign_id == campaign_id,
                        Trial.state.in_((TrialState.PENDING, TrialState.RUNNING)),
                    )
                )
                or 0
            )

    @retry_transient
    def trials_news(
        self, campaign_id: int, after_number: int, watched_ids: Collection[int]
    ) -> list[TrialRecord]:
        """Trials numbered after ``after_number`` plus the ``watched_ids`` that have finished.

        How a controller learns what the other controllers on its campaign created and finished,
        without re-reading the whole campaign.
        """
        finished = (TrialState.COMPLETE, TrialState.FAILED)
        with self._db.session(f"read new trials of campaign {campaign_id}") as session:
            # Two indexed queries rather than one OR (which would scan the campaign).
            found = records.load_trials(
                session, (Trial.campaign_id == campaign_id) & (Trial.number > after_number)
            )
            if watched_ids:
                ended = Trial.id.in_(list(watched_ids)) & Trial.state.in_(finished)
                seen = {t.id for t in found}
                found += [t for t in records.load_trials(session, ended) if t.id not in seen]
            return found
