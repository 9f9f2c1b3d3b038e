"""The benchmark job queue of CampaignStore: agents lease jobs, results are cached per device.

A lease is taken atomically: the candidate row is picked with ``SELECT ... FOR UPDATE SKIP
LOCKED`` on Postgres (concurrent agents pick different rows without waiting) and claimed with a
conditional UPDATE ("... WHERE id = ? AND (queued OR lease expired)") whose row count must be 1;
on SQLite the write session's BEGIN IMMEDIATE serialises writers and the same conditional UPDATE
decides. Two agents therefore never hold one job. A job whose agent went silent (its lease expired)
is leased again, its attempts counted; after bench_sql.MAX_BENCH_ATTEMPTS leases it fails.

Only the agent holding an unexpired lease may renew, complete or fail a job; anyone else gets
StateConflictError and nothing is written. Results are cached under (model hash, device, backend,
precision, part, tile): a job whose model was already measured on the leasing agent's device is
completed from the cache at lease time and the agent gets the next job instead.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import select

from nas.bench_domain import AgentRecord, BenchJob, BenchJobState, BenchMeasurement, BenchResult
from nas.errors import InvalidValueError, NotFoundError
from nas.storage import bench_records, bench_sql, guards, validation
from nas.storage.artifacts import ArtifactStore, validate_digest
from nas.storage.database import Database
from nas.storage.schema import AgentRow, ApiToken, BenchJobRow, BenchResultRow, utc_now

_MAX_ERROR_CHARS = 20_000


class BenchQueue:
    """Benchmark methods of CampaignStore."""

    _db: Database
    _artifacts: ArtifactStore

    # ---------------------------------------------------------------- model artifacts

    def put_model_artifact(self, data: bytes) -> str:
        """Store a model (ONNX bytes, a zipped package...) by content; returns its SHA-256."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise InvalidValueError(f"model artifact must be bytes, got {type(data).__name__}")
        if len(data) == 0:
            raise InvalidValueError("model artifact is empty (0 bytes)")
        digest, _size = self._artifacts.put(bytes(data))
        return digest

    def model_artifact_path(self, sha256: str) -> Path:
        """The file of a stored model; NotFoundError if no model has that digest."""
        return self._artifacts.path(sha256)

    def bench_model_path(self, sha256: str) -> Path:
        """The file of a model some bench job measures (what agents may download): other
        stored content (checkpoints...) is not served by this route even by its digest."""
        validate_digest(sha256)
        with self._db.session(f"look up bench jobs of model {sha256}") as session:
            known = session.scalar(
                select(BenchJobRow.id).where(BenchJobRow.model_sha256 == sha256).limit(1)
            )
        if known is None:
            raise NotFoundError(f"no bench job measures a model with SHA-256 {sha256}")
        return self._artifacts.path(sha256)

    # ---------------------------------------------------------------- jobs

    def enqueue_bench_job(
        self,
        *,
        model_sha256: str,
        model_format: str,
        part: str,
        backend: str,
        precision: str = "fp32",
        tile: int = 512,
        campaign_id: int | None = None,
        trial_id: int | None = None,
        config_hash: str | None = None,
    ) -> BenchJob:
        """Queue a measurement of a stored model (put_model_artifact first)."""
        self._artifacts.path(validate_digest(model_sha256))
        row = BenchJobRow(
            model_sha256=model_sha256,
            model_format=validation.name(model_format, "model format", 50),
            part=validation.name(part, "part", 50),
            backend=validation.name(backend, "backend", 100),
            precision=validation.name(precision, "precision", 20),
            tile=bench_records.count(tile, "tile", 1),
            config_hash=None
            if config_hash is None
            else validation.name(config_hash, "config hash", 128),
            campaign_id=campaign_id,
            trial_id=trial_id,
            state=BenchJobState.QUEUED,
            attempts=0,
            created_at=utc_now(),
        )
        with self._db.session(f"enqueue a {backend} job for {model_sha256}", write=True) as session:
            if campaign_id is not None:
                guards.require_campaign(session, campaign_id)
            if trial_id is not None:
                guards.require_trial(session, trial_id)
            session.add(row)
            session.flush()
            return bench_records.job_record(row, None)

    def bench_job(self, job_id: int) -> BenchJob:
        with self._db.session(f"read bench job {job_id}") as session:
            return bench_sql.load_job(session, job_id)

    def bench_jobs(
        self, campaign_id: int | None = None, state: BenchJobState | None = None
    ) -> list[BenchJob]:
        """Jobs in order of creation, optionally of one campaign and/or in one state."""
        query = bench_sql.jobs_with_results()
        if campaign_id is not None:
            query = query.where(BenchJobRow.campaign_id == campaign_id)
        if state is not None:
            query = query.where(BenchJobRow.state == BenchJobState(state))
        with self._db.session("list bench jobs") as session:
            rows = session.execute(query.order_by(BenchJobRow.id))
            return [bench_records.job_record(job, result) for job, result in rows]

    # ---------------------------------------------------------------- agents

    def register_agent(
        self,
        name: str,
        device: str,
        backend: str,
        description: dict[str, Any],
        token_id: int | None = None,
    ) -> AgentRecord:
        """A new agent measuring on `device` with `backend`, acting under token `token_id`."""
        now = utc_now()
        row = AgentRow(
            name=validation.name(name, "agent name", 200),
            device=validation.name(device, "device", 200),
            backend=validation.name(backend, "backend", 100),
            description=validation.json_document(description, f"description of agent {name!r}"),
            token_id=token_id,
            registered_at=now,
            last_seen_at=now,
        )
        with self._db.session(f"register agent {name!r}", write=True) as session:
            if token_id is not None and session.get(ApiToken, token_id) is None:
                raise NotFoundError(f"token {token_id!r} not found")
            session.add(row)
            session.flush()
            return bench_records.agent_record(row)

    def bench_agent(self, agent_id: int) -> AgentRecord:
        """A registered agent; NotFoundError if there is none with that id."""
        with self._db.session(f"read agent {agent_id}") as session:
            return bench_records.agent_record(bench_sql.require_agent(session, agent_id))

    def bench_agents(self) -> list[AgentRecord]:
        """Every registered agent, in order of registration."""
        with self._db.session("list agents") as session:
            rows = session.scalars(select(AgentRow).order_by(AgentRow.id))
            return [bench_records.agent_record(row) for row in rows]

    # ---------------------------------------------------------------- leases

    def lease_bench_job(self, agent_id: int, lease_seconds: float) -> BenchJob | None:
        """The oldest job of the agent's backend that is queued or whose lease expired, now
        leased to this agent for `lease_seconds`; None when there is nothing to do."""
        seconds = bench_records.lease_seconds(lease_seconds)
        while True:
            with self._db.session(f"lease a bench job for agent {agent_id}", write=True) as session:
                outcome = bench_sql.lease_step(session, agent_id, seconds)
            if outcome is not bench_sql.LOST_RACE and outcome is not bench_sql.CACHE_HIT:
                assert outcome is None or isinstance(outcome, BenchJob)
                return outcome

    def renew_bench_lease(self, job_id: int, agent_id: int, lease_seconds: float) -> BenchJob:
        """Extend the agent's unexpired lease to `lease_seconds` from now."""
        seconds = bench_records.lease_seconds(lease_seconds)
        with self._db.session(f"renew the lease of bench job {job_id}", write=True) as session:
            now = utc_now()
            expires = now + dt.timedelta(seconds=seconds)
            bench_sql.claim_own_lease(
                session, job_id, agent_id, now, {"lease_expires_at": expires}, "renew"
            )
            bench_sql.touch_agent(session, agent_id, now)
            return bench_sql.load_job(session, job_id)

    def complete_bench_job(self, job_id: int, agent_id: int, result: BenchMeasurement) -> BenchJob:
        """Record the agent's measurement: one bench_results row per cache key, and a trial
        measurement when the job belongs to a trial. Refused unless the agent holds the lease."""
        value = bench_records.measurement(result, job_id)
        with self._db.session(f"complete bench job {job_id}", write=True) as session:
            now = utc_now()
            done = {"state": BenchJobState.DONE, "finished_at": now, "lease_expires_at": None}
            bench_sql.claim_own_lease(session, job_id, agent_id, now, done, "complete")
            job = bench_sql.require_job(session, job_id)
            agent = bench_sql.require_agent(session, agent_id)
            cached = bench_sql.store_result(session, job, agent, value, now)
            bench_sql.finish_with(session, job, cached, now)
            bench_sql.touch_agent(session, agent_id, now)
            return bench_sql.load_job(session, job_id)

    def fail_bench_job(self, job_id: int, agent_id: int, error: str) -> BenchJob:
        """The agent could not measure the model: the job fails with its error text."""
        if not isinstance(error, str) or not error.strip():
            raise InvalidValueError(f"error of bench job {job_id} must be a non-empty string")
        with self._db.session(f"fail bench job {job_id}", write=True) as session:
            now = utc_now()
            values = {
                "state": BenchJobState.FAILED,
                "error": error[:_MAX_ERROR_CHARS],
                "finished_at": now,
                "lease_expires_at": None,
            }
            bench_sql.claim_own_lease(session, job_id, agent_id, now, values, "fail")
            bench_sql.touch_agent(session, agent_id, now)
            return bench_sql.load_job(session, job_id)

    # ---------------------------------------------------------------- the cache

    def cached_bench_result(
        self, model_sha256: str, device: str, backend: str, precision: str, part: str, tile: int
    ) -> BenchResult | None:
        key = bench_sql.cache_key(model_sha256, device, backend, precision, part, tile)
        with self._db.session(f"look up the bench cache for {model_sha256}") as session:
            row = session.scalars(select(BenchResultRow).where(*key)).one_or_none()
            return None if row is None else bench_records.result_record(row)

    def bench_results(
        self, backend: str | None = None, device: str | None = None
    ) -> list[BenchResult]:
        query = select(BenchResultRow).order_by(BenchResultRow.id)
        if backend is not None:
            query = query.where(BenchResultRow.backend == backend)
        if device is not None:
            query = query.where(BenchResultRow.device == device)
        with self._db.session("list bench results") as session:
            return [bench_records.result_record(row) for row in session.scalars(query)]
