"""Benchmark rows read back as records, and the checks on what agents and callers hand in."""

from __future__ import annotations

import datetime as dt

from nas.bench_domain import AgentRecord, BenchJob, BenchMeasurement, BenchResult
from nas.domain import Measurement
from nas.errors import InvalidValueError
from nas.storage import validation
from nas.storage.schema import AgentRow, BenchJobRow, BenchResultRow


def agent_record(row: AgentRow) -> AgentRecord:
    return AgentRecord(
        id=row.id,
        name=row.name,
        device=row.device,
        backend=row.backend,
        description=row.description,
        token_id=row.token_id,
        registered_at=row.registered_at,
        last_seen_at=row.last_seen_at,
    )


def result_record(row: BenchResultRow) -> BenchResult:
    return BenchResult(
        id=row.id,
        model_sha256=row.model_sha256,
        device=row.device,
        backend=row.backend,
        precision=row.precision,
        part=row.part,
        tile=row.tile,
        agent_id=row.agent_id,
        warmup=row.warmup,
        runs=row.runs,
        p50_ms=row.p50_ms,
        p90_ms=row.p90_ms,
        estimate_12mp_ms=row.estimate_12mp_ms,
        cold_ms=row.cold_ms,
        details=row.details,
        measured_at=row.measured_at,
    )


def job_record(row: BenchJobRow, result: BenchResultRow | None) -> BenchJob:
    return BenchJob(
        id=row.id,
        model_sha256=row.model_sha256,
        model_format=row.model_format,
        part=row.part,
        backend=row.backend,
        precision=row.precision,
        tile=row.tile,
        state=row.state,
        attempts=row.attempts,
        agent_id=row.agent_id,
        lease_expires_at=row.lease_expires_at,
        campaign_id=row.campaign_id,
        trial_id=row.trial_id,
        config_hash=row.config_hash,
        error=row.error,
        created_at=row.created_at,
        finished_at=row.finished_at,
        result=None if result is None else result_record(result),
    )


def trial_measurement(result: BenchResultRow) -> Measurement:
    """The trial-level copy of a cached result (what trial pages and best-for-budget read)."""
    return Measurement(
        device=result.device,
        backend=result.backend,
        part=result.part,
        precision=result.precision,
        tile=result.tile,
        warmup=result.warmup,
        runs=result.runs,
        p50_ms=result.p50_ms,
        p90_ms=result.p90_ms,
        estimate_12mp_ms=result.estimate_12mp_ms,
        cold_ms=result.cold_ms,
    )


def count(value: object, what: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidValueError(f"{what} must be an integer >= {minimum}, got {value!r}")
    return value


def positive(value: object, what: str) -> float:
    result = validation.finite(value, what)
    if result <= 0:
        raise InvalidValueError(f"{what} must be positive, got {result!r}")
    return result


def lease_seconds(value: object) -> float:
    seconds = positive(value, "lease_seconds")
    if seconds > 7 * 24 * 3600:
        raise InvalidValueError(f"lease_seconds must be at most a week, got {seconds!r}")
    return seconds


def measurement(value: BenchMeasurement, job_id: int) -> BenchMeasurement:
    """The agent's numbers, checked: counts, finite positive latencies, p90 >= p50."""
    what = f"result of bench job {job_id}"
    if not isinstance(value, BenchMeasurement):
        raise InvalidValueError(f"{what} must be a BenchMeasurement, got {value!r:.80}")
    count(value.warmup, f"{what}: warmup", 0)
    count(value.runs, f"{what}: runs", 1)
    p50 = positive(value.p50_ms, f"{what}: p50_ms")
    p90 = positive(value.p90_ms, f"{what}: p90_ms")
    positive(value.estimate_12mp_ms, f"{what}: estimate_12mp_ms")
    if p90 < p50:
        raise InvalidValueError(f"{what}: p90_ms {p90!r} is below p50_ms {p50!r}")
    if value.cold_ms is not None:
        positive(value.cold_ms, f"{what}: cold_ms")
    validation.json_document(value.details, f"{what}: details")
    return value


def result_row(
    job: BenchJobRow, agent: AgentRow, value: BenchMeasurement, now: dt.datetime
) -> BenchResultRow:
    return BenchResultRow(
        model_sha256=job.model_sha256,
        device=agent.device,
        backend=job.backend,
        precision=job.precision,
        part=job.part,
        tile=job.tile,
        agent_id=agent.id,
        warmup=value.warmup,
        runs=value.runs,
        p50_ms=float(value.p50_ms),
        p90_ms=float(value.p90_ms),
        estimate_12mp_ms=float(value.estimate_12mp_ms),
        cold_ms=None if value.cold_ms is None else float(value.cold_ms),
        details=validation.json_document(value.details, f"details of bench job {job.id}"),
        measured_at=now,
    )
