"""Lookups that raise NotFoundError, and the conditional UPDATE behind every trial transition.

Used inside an open session by the repository; messages name the campaign or trial at fault.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from nas.domain import TrialRecord, TrialState
from nas.errors import InvalidValueError, NotFoundError, StateConflictError
from nas.storage import records
from nas.storage.schema import Campaign, Trial


def rowcount(session: Session, statement: Any) -> int:
    result = session.execute(statement.execution_options(synchronize_session=False))
    return cast(CursorResult[Any], result).rowcount


def transition(
    session: Session,
    trial_id: int,
    allowed: Iterable[TrialState],
    values: dict[Any, Any],
    action: str,
    lease_owner: str | None = None,
) -> None:
    """Atomically change a trial that is in one of the ``allowed`` states, or raise.

    With ``lease_owner``, the trial must also be leased by that owner: a controller whose lease
    expired (and was taken over) cannot record anything for the trial any more.
    """
    statement = update(Trial).where(Trial.id == trial_id, Trial.state.in_(tuple(allowed)))
    if lease_owner is not None:
        statement = statement.where(Trial.lease_owner == lease_owner)
    if rowcount(session, statement.values(values)) != 1:
        raise state_conflict(session, trial_id, action, lease_owner)


def done_before(
    session: Session, trial_id: int, state: TrialState, lease_owner: str | None
) -> TrialRecord | None:
    """The trial if ``lease_owner`` already moved it to ``state``: a retried call that had
    succeeded before the connection was lost returns the stored result instead of failing."""
    if lease_owner is None:
        return None
    row = session.execute(
        select(Trial.state, Trial.lease_owner).where(Trial.id == trial_id)
    ).one_or_none()
    if row is None or row[0] != state or row[1] != lease_owner:
        return None
    return one_trial(session, trial_id)


def state_conflict(
    session: Session, trial_id: int, action: str, lease_owner: str | None = None
) -> Exception:
    row = session.execute(
        select(Trial.number, Trial.campaign_id, Trial.state, Trial.worker, Trial.lease_owner).where(
            Trial.id == trial_id
        )
    ).one_or_none()
    if row is None:
        return NotFoundError(f"trial {trial_id!r} not found")
    number, campaign_id, state, worker, holder = row
    where = f" on worker {worker!r}" if state == TrialState.RUNNING and worker else ""
    if lease_owner is not None and holder != lease_owner:
        where += f", leased by {holder!r}, not by {lease_owner!r}"
    return StateConflictError(
        f"cannot {action} trial {trial_id} (number {number} of campaign {campaign_id}): "
        f"it is {TrialState(state).value}{where}"
    )


def require_campaign(session: Session, campaign_id: int, lock: bool = False) -> None:
    query = select(Campaign.id).where(Campaign.id == campaign_id)
    if lock:
        query = query.with_for_update()
    if session.scalar(query) is None:
        raise NotFoundError(f"campaign {campaign_id!r} not found")


def require_trial(session: Session, trial_id: int) -> None:
    if session.scalar(select(Trial.id).where(Trial.id == trial_id)) is None:
        raise NotFoundError(f"trial {trial_id!r} not found")


def one_trial(session: Session, trial_id: int) -> TrialRecord:
    found = records.load_trials(session, Trial.id == trial_id)
    if not found:
        raise NotFoundError(f"trial {trial_id!r} not found")
    return found[0]


def distinct_ids(trial_ids: Sequence[int]) -> list[int]:
    ids = list(trial_ids)
    for trial_id in ids:
        if isinstance(trial_id, bool) or not isinstance(trial_id, int):
            raise InvalidValueError(f"trial id must be an integer, got {trial_id!r}")
    repeated = sorted(i for i, count in Counter(ids).items() if count > 1)
    if repeated:
        raise InvalidValueError(f"trial ids {repeated} given more than once for the front")
    return ids
