"""SQLAlchemy tables of the system of record.

The tables are created by the Alembic migrations in ``migrations/versions`` (not by
``metadata.create_all``); a test checks that the migrated schema and these classes agree.
Timestamps are stored in UTC. Enum columns hold the enum *values* ("pending"), not the names.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from nas.bench_domain import BenchJobState
from nas.domain import CampaignStatus, TrialState
from nas.ratings import Outcome
from nas.storage.access import Role

# Explicit constraint names so that migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timestamp that is always UTC and timezone-aware in Python.

    SQLite keeps no time zone, so values are normalised to UTC on the way in and tagged as UTC
    on the way out; Postgres stores them as ``timestamp with time zone``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given; store timezone-aware UTC values")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def _enum_column_type(enum_class: type[enum.Enum], name: str) -> Enum:
    # A VARCHAR, not a native Postgres ENUM: adding a state later needs no ALTER TYPE.
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        length=16,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[CampaignStatus] = mapped_column(
        _enum_column_type(CampaignStatus, "campaign_status")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class Trial(Base):
    __tablename__ = "trials"
    __table_args__ = (
        # Serves "trials of a campaign ordered by number" and the next-number query.
        UniqueConstraint("campaign_id", "number"),
        # Serves "trials of a campaign in state X" and the per-state counts.
        Index("ix_trials_campaign_id_state", "campaign_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    config_hash: Mapped[str] = mapped_column(String(128), index=True)
    state: Mapped[TrialState] = mapped_column(_enum_column_type(TrialState, "trial_state"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(200))
    objectives: Mapped[dict[str, float] | None] = mapped_column(JSON(none_as_null=True))
    feasible: Mapped[bool | None] = mapped_column(Boolean)
    sampler_state: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    started_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    # The controller running the trial holds a lease it renews; see migration 0003.
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    # Multi-fidelity: rung 0 is the cheapest budget; a promoted trial names its parent.
    rung: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    parent_trial_id: Mapped[int | None] = mapped_column(Integer)
    # What the trial's weights started from (inheritance); see migration 0004.
    initialisation: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))


class TrialMetric(Base):
    __tablename__ = "trial_metrics"

    trial_id: Mapped[int] = mapped_column(
        ForeignKey("trials.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[float] = mapped_column(Float)


class ImageMetric(Base):
    __tablename__ = "image_metrics"

    trial_id: Mapped[int] = mapped_column(
        ForeignKey("trials.id", ondelete="CASCADE"), primary_key=True
    )
    image: Mapped[str] = mapped_column(String(500), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[float] = mapped_column(Float)


class MeasurementRow(Base):
    __tablename__ = "measurements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("trials.id", ondelete="CASCADE"), index=True)
    device: Mapped[str] = mapped_column(String(200))
    backend: Mapped[str] = mapped_column(String(100))
    part: Mapped[str] = mapped_column(String(50))
    precision: Mapped[str] = mapped_column(String(20))
    tile: Mapped[int] = mapped_column(Integer)
    warmup: Mapped[int] = mapped_column(Integer)
    runs: Mapped[int] = mapped_column(Integer)
    p50_ms: Mapped[float] = mapped_column(Float)
    p90_ms: Mapped[float] = mapped_column(Float)
    estimate_12mp_ms: Mapped[float] = mapped_column(Float)
    cold_ms: Mapped[float | None] = mapped_column(Float)
    measured_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class ArtifactRow(Base):
    __tablename__ = "artifacts"
    __table_args__ = (UniqueConstraint("trial_id", "filename"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("trials.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(50))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)


class FrontMember(Base):
    __tablename__ = "front_members"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    trial_id: Mapped[int] = mapped_column(
        ForeignKey("trials.id", ondelete="CASCADE"), primary_key=True
    )


class HypervolumeRow(Base):
    __tablename__ = "hypervolume_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    n_complete: Mapped[int] = mapped_column(Integer)
    hypervolume: Mapped[float] = mapped_column(Float)
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class ApiToken(Base):
    """A token of the API; only the SHA-256 of its secret is stored (see access.py)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(_enum_column_type(Role, "token_role"))
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())


class PairwiseRatingRow(Base):
    """One blind judgement: which of two reconstructions of an image looks better."""

    __tablename__ = "pairwise_ratings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    rater: Mapped[str] = mapped_column(String(200))
    image: Mapped[str] = mapped_column(String(500))
    first: Mapped[str] = mapped_column(String(64))
    second: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[Outcome] = mapped_column(_enum_column_type(Outcome, "rating_outcome"))
    first_bpp: Mapped[float | None] = mapped_column(Float)
    second_bpp: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class AgentRow(Base):
    """A registered benchmark agent and the device it measures on."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id", ondelete="SET NULL"))
    device: Mapped[str] = mapped_column(String(200))
    backend: Mapped[str] = mapped_column(String(100))
    # model, OS, runtime version, compute units: what the agent said of itself.
    description: Mapped[dict[str, Any]] = mapped_column(JSON)
    registered_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    last_seen_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class BenchJobRow(Base):
    """One model artifact to measure on one backend; leased by an agent until it expires."""

    __tablename__ = "bench_jobs"
    __table_args__ = (Index("ix_bench_jobs_state_backend", "state", "backend"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    trial_id: Mapped[int | None] = mapped_column(ForeignKey("trials.id", ondelete="CASCADE"))
    config_hash: Mapped[str | None] = mapped_column(String(128))
    model_sha256: Mapped[str] = mapped_column(String(64))
    model_format: Mapped[str] = mapped_column(String(50))  # "onnx", "mlpackage", ...
    part: Mapped[str] = mapped_column(String(50))
    backend: Mapped[str] = mapped_column(String(100))
    precision: Mapped[str] = mapped_column(String(20))
    tile: Mapped[int] = mapped_column(Integer)
    state: Mapped[BenchJobState] = mapped_column(
        _enum_column_type(BenchJobState, "bench_job_state")
    )
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    attempts: Mapped[int] = mapped_column(Integer)
    result_id: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())


class BenchResultRow(Base):
    """A measurement, cached: one model is never measured twice on the same device."""

    __tablename__ = "bench_results"
    __table_args__ = (
        # Named by hand: the generated name exceeds Postgres's 63-character limit.
        UniqueConstraint(
            "model_sha256",
            "device",
            "backend",
            "precision",
            "part",
            "tile",
            name="uq_bench_results_cache_key",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_sha256: Mapped[str] = mapped_column(String(64))
    device: Mapped[str] = mapped_column(String(200))
    backend: Mapped[str] = mapped_column(String(100))
    precision: Mapped[str] = mapped_column(String(20))
    part: Mapped[str] = mapped_column(String(50))
    tile: Mapped[int] = mapped_column(Integer)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    warmup: Mapped[int] = mapped_column(Integer)
    runs: Mapped[int] = mapped_column(Integer)
    p50_ms: Mapped[float] = mapped_column(Float)
    p90_ms: Mapped[float] = mapped_column(Float)
    estimate_12mp_ms: Mapped[float] = mapped_column(Float)
    cold_ms: Mapped[float | None] = mapped_column(Float)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    measured_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class FunnelStageRow(Base):
    """How many configs entered and left one stage of a funnel campaign, and how long it took."""

    __tablename__ = "funnel_stages"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    stage: Mapped[str] = mapped_column(String(50), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    n_in: Mapped[int] = mapped_column(BigInteger)
    n_out: Mapped[int] = mapped_column(BigInteger)
    seconds: Mapped[float] = mapped_column(Float)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    finished_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class FunnelCandidateRow(Base):
    """A config that survived the MACs screen, the furthest stage it reached and its numbers."""

    __tablename__ = "funnel_candidates"
    __table_args__ = (UniqueConstraint("campaign_id", "config_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    config_hash: Mapped[str] = mapped_column(String(128))
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    stage_reached: Mapped[str] = mapped_column(String(50))
    # predicted_ms, predicted_std, measured_ms, proxy_psnr, ...: whatever the stages computed.
    values: Mapped[dict[str, Any]] = mapped_column(JSON)
    trial_id: Mapped[int | None] = mapped_column(ForeignKey("trials.id", ondelete="SET NULL"))
