"""The SQL of the benchmark queue (see bench_queue.py), run inside an open session."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from nas.bench_domain import BenchJob, BenchJobState, BenchMeasurement
from nas.errors import NotFoundError, StateConflictError
from nas.storage import bench_records, guards, records
from nas.storage.schema import AgentRow, BenchJobRow, BenchResultRow, utc_now

# A model that kills every agent that measures it must not be handed out forever.
MAX_BENCH_ATTEMPTS = 5
LOST_RACE = object()  # another agent claimed the candidate first: look again
CACHE_HIT = object()  # the candidate was completed from the cache: look again


def jobs_with_results() -> Select[BenchJobRow, BenchResultRow]:
    return select(BenchJobRow, BenchResultRow).outerjoin(
        BenchResultRow, BenchResultRow.id == BenchJobRow.result_id
    )


def load_job(session: Session, job_id: int) -> BenchJob:
    session.expire_all()  # conditional UPDATEs bypass the identity map
    found = session.execute(jobs_with_results().where(BenchJobRow.id == job_id)).one_or_none()
    if found is None:
        raise NotFoundError(f"bench job {job_id!r} not found")
    return bench_records.job_record(found[0], found[1])


def require_job(session: Session, job_id: int) -> BenchJobRow:
    row = session.get(BenchJobRow, job_id, populate_existing=True)
    if row is None:
        raise NotFoundError(f"bench job {job_id!r} not found")
    return row


def require_agent(session: Session, agent_id: int) -> AgentRow:
    row = session.get(AgentRow, agent_id)
    if row is None:
        raise NotFoundError(f"agent {agent_id!r} not found")
    return row


def touch_agent(session: Session, agent_id: int, now: dt.datetime) -> None:
    guards.rowcount(
        session, update(AgentRow).where(AgentRow.id == agent_id).values(last_seen_at=now)
    )


def cache_key(
    model_sha256: str, device: str, backend: str, precision: str, part: str, tile: int
) -> tuple[ColumnElement[bool], ...]:
    return (
        BenchResultRow.model_sha256 == model_sha256,
        BenchResultRow.device == device,
        BenchResultRow.backend == backend,
        BenchResultRow.precision == precision,
        BenchResultRow.part == part,
        BenchResultRow.tile == tile,
    )


def cached_row(session: Session, job: BenchJobRow, device: str) -> BenchResultRow | None:
    key = cache_key(job.model_sha256, device, job.backend, job.precision, job.part, job.tile)
    return session.scalars(select(BenchResultRow).where(*key)).one_or_none()


def leasable(now: dt.datetime) -> ColumnElement[bool]:
    return or_(
        BenchJobRow.state == BenchJobState.QUEUED,
        and_(BenchJobRow.state == BenchJobState.LEASED, BenchJobRow.lease_expires_at < now),
    )


def being_measured_on(device: str, now: dt.datetime) -> ColumnElement[bool]:
    """The job's model is under an unexpired lease on another agent of the same device: wait
    for that result (the cache) instead of measuring the same model twice there."""
    other = aliased(BenchJobRow)
    return exists(
        select(other.id)
        .join(AgentRow, AgentRow.id == other.agent_id)
        .where(
            other.id != BenchJobRow.id,
            other.state == BenchJobState.LEASED,
            other.lease_expires_at >= now,
            other.model_sha256 == BenchJobRow.model_sha256,
            other.backend == BenchJobRow.backend,
            other.precision == BenchJobRow.precision,
            other.part == BenchJobRow.part,
            other.tile == BenchJobRow.tile,
            AgentRow.device == device,
        )
    )


def candidate(session: Session, agent: AgentRow, now: dt.datetime) -> BenchJobRow | None:
    query = (
        select(BenchJobRow)
        .where(
            BenchJobRow.backend == agent.backend,
            leasable(now),
            ~being_measured_on(agent.device, now),
        )
        .order_by(BenchJobRow.id)
        .limit(1)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=BenchJobRow)
    return session.scalars(query).first()


def claim(session: Session, job_id: int, now: dt.datetime, values: dict[str, Any]) -> bool:
    statement = update(BenchJobRow).where(BenchJobRow.id == job_id, leasable(now)).values(**values)
    return guards.rowcount(session, statement) == 1


def lease_step(session: Session, agent_id: int, seconds: float) -> object:
    """One attempt: None (nothing to do), a leased BenchJob, CACHE_HIT or LOST_RACE."""
    agent = require_agent(session, agent_id)
    now = utc_now()
    touch_agent(session, agent_id, now)
    job = candidate(session, agent, now)
    if job is None:
        return None
    if job.attempts >= MAX_BENCH_ATTEMPTS:
        error = f"its lease expired {job.attempts} times (agents went silent measuring it)"
        values = {"state": BenchJobState.FAILED, "error": error, "finished_at": now}
        claim(session, job.id, now, values)
        return LOST_RACE
    cached = cached_row(session, job, agent.device)
    if cached is not None:
        values = {"state": BenchJobState.DONE, "finished_at": now, "agent_id": agent.id}
        if claim(session, job.id, now, {**values, "lease_expires_at": None}):
            finish_with(session, job, cached, now)
        return CACHE_HIT
    values = {
        "state": BenchJobState.LEASED,
        "agent_id": agent.id,
        "lease_expires_at": now + dt.timedelta(seconds=seconds),
        "attempts": BenchJobRow.attempts + 1,
    }
    if not claim(session, job.id, now, values):
        return LOST_RACE
    return load_job(session, job.id)


def claim_own_lease(
    session: Session,
    job_id: int,
    agent_id: int,
    now: dt.datetime,
    values: dict[str, Any],
    action: str,
) -> None:
    statement = (
        update(BenchJobRow)
        .where(
            BenchJobRow.id == job_id,
            BenchJobRow.agent_id == agent_id,
            BenchJobRow.state == BenchJobState.LEASED,
            BenchJobRow.lease_expires_at >= now,
        )
        .values(**values)
    )
    if guards.rowcount(session, statement) != 1:
        raise lease_conflict(session, job_id, agent_id, now, action)


def lease_conflict(
    session: Session, job_id: int, agent_id: int, now: dt.datetime, action: str
) -> Exception:
    job = session.get(BenchJobRow, job_id, populate_existing=True)
    if job is None:
        return NotFoundError(f"bench job {job_id!r} not found")
    prefix = f"agent {agent_id} cannot {action} bench job {job_id}"
    state = BenchJobState(job.state)
    if state != BenchJobState.LEASED:
        return StateConflictError(f"{prefix}: it is {state.value}, not leased")
    if job.agent_id != agent_id:
        return StateConflictError(f"{prefix}: it is leased to agent {job.agent_id}")
    expired = job.lease_expires_at.isoformat() if job.lease_expires_at else "?"
    return StateConflictError(f"{prefix}: its lease expired at {expired} (now {now.isoformat()})")


def store_result(
    session: Session, job: BenchJobRow, agent: AgentRow, value: BenchMeasurement, now: dt.datetime
) -> BenchResultRow:
    """The cache row for the job on the agent's device: the existing one, or this measurement.

    Two agents of one device may finish the same model at once (Postgres); the unique key makes
    the second insert fail inside a savepoint, and the first row is used.
    """
    cached = cached_row(session, job, agent.device)
    if cached is not None:
        return cached
    row = bench_records.result_row(job, agent, value, now)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        cached = cached_row(session, job, agent.device)
        if cached is None:
            raise
        return cached
    return row


def finish_with(
    session: Session, job: BenchJobRow, result: BenchResultRow, now: dt.datetime
) -> None:
    """Point the job at its result, and copy the result to the job's trial, if it has one."""
    guards.rowcount(
        session, update(BenchJobRow).where(BenchJobRow.id == job.id).values(result_id=result.id)
    )
    if job.trial_id is not None:
        measurement = bench_records.trial_measurement(result)
        session.add(records.measurement_row(job.trial_id, measurement, now))
