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
) -> None:
    """Atomically change a trial that is in one of the ``allowed`` states, or raise."""
    statement = update(Trial).where(Trial.id == trial_id, Trial.state.in_(tuple(allowed)))
    if rowcount(session, statement.values(values)) != 1:
        raise state_conflict(session, trial_id, action)


def state_conflict(session: Session, trial_id: int, action: str) -> Exception:
    row = session.execute(
        select(Trial.number, Trial.campaign_id, Trial.state, Trial.worker).where(
            Trial.id == trial_id
        )
    ).one_or_none()
    if row is None:
        return NotFoundError(f"trial {trial_id!r} not found")
    number, campaign_id, state, worker = row
    where = f" on worker {worker!r}" if state == TrialState.RUNNING and worker else ""
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
