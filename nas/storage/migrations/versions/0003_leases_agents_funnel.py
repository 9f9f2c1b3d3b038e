"""Trial leases and rungs, benchmark agents and jobs, the measurement cache, funnel stages

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

- trials.lease_owner / lease_expires_at: the controller that runs a trial holds a lease on it
  and renews it; another controller on the same campaign takes over a trial only once the lease
  has expired (two controllers never run one trial twice).
- trials.rung / parent_trial_id: multi-fidelity (MO-ASHA) training budgets; a promoted trial is
  a new row at the next rung that names the trial it came from.
- agents, bench_jobs: benchmark agents register with a token and lease jobs that expire.
- bench_results: measurements cached by (model hash, device, backend, precision, part, tile).
- funnel_stages, funnel_candidates: counts and survivors of each stage of a funnel campaign.

Written out in full (not imported from schema.py), like 0001.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

JOB_STATES = ("queued", "leased", "done", "failed")


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("trials") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(200), nullable=True))
        batch.add_column(sa.Column("lease_expires_at", _utc(), nullable=True))
        batch.add_column(sa.Column("rung", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("parent_trial_id", sa.Integer(), nullable=True))
    _create_agents()
    _create_bench_jobs()
    _create_bench_results()
    _create_funnel_tables()


def _create_agents() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("device", sa.String(200), nullable=False),
        sa.Column("backend", sa.String(100), nullable=False),
        sa.Column("description", sa.JSON(), nullable=False),
        sa.Column("registered_at", _utc(), nullable=False),
        sa.Column("last_seen_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["token_id"], ["api_tokens.id"],
            name="fk_agents_token_id_api_tokens", ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_agents"),
    )


def _create_bench_jobs() -> None:
    op.create_table(
        "bench_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("trial_id", sa.Integer(), nullable=True),
        sa.Column("config_hash", sa.String(128), nullable=True),
        sa.Column("model_sha256", sa.String(64), nullable=False),
        sa.Column("model_format", sa.String(50), nullable=False),
        sa.Column("part", sa.String(50), nullable=False),
        sa.Column("backend", sa.String(100), nullable=False),
        sa.Column("precision", sa.String(20), nullable=False),
        sa.Column("tile", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(*JOB_STATES, name="bench_job_state", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("lease_expires_at", _utc(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("result_id", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("finished_at", _utc(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"],
            name="fk_bench_jobs_campaign_id_campaigns", ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["trial_id"], ["trials.id"], name="fk_bench_jobs_trial_id_trials", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name="fk_bench_jobs_agent_id_agents", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_bench_jobs"),
    )
    op.create_index("ix_bench_jobs_state_backend", "bench_jobs", ["state", "backend"])
    op.create_index("ix_bench_jobs_campaign_id", "bench_jobs", ["campaign_id"])


def _create_bench_results() -> None:
    op.create_table(
        "bench_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_sha256", sa.String(64), nullable=False),
        sa.Column("device", sa.String(200), nullable=False),
        sa.Column("backend", sa.String(100), nullable=False),
        sa.Column("precision", sa.String(20), nullable=False),
        sa.Column("part", sa.String(50), nullable=False),
        sa.Column("tile", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("warmup", sa.Integer(), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("p50_ms", sa.Float(), nullable=False),
        sa.Column("p90_ms", sa.Float(), nullable=False),
        sa.Column("estimate_12mp_ms", sa.Float(), nullable=False),
        sa.Column("cold_ms", sa.Float(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("measured_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"],
            name="fk_bench_results_agent_id_agents", ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_bench_results"),
        sa.UniqueConstraint(
            "model_sha256", "device", "backend", "precision", "part", "tile",
            name="uq_bench_results_cache_key",
        ),
    )


def _create_funnel_tables() -> None:
    op.create_table(
        "funnel_stages",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(50), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("n_in", sa.BigInteger(), nullable=False),
        sa.Column("n_out", sa.BigInteger(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("finished_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"],
            name="fk_funnel_stages_campaign_id_campaigns", ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("campaign_id", "stage", name="pk_funnel_stages"),
    )
    op.create_table(
        "funnel_candidates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("config_hash", sa.String(128), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("stage_reached", sa.String(50), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("trial_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"],
            name="fk_funnel_candidates_campaign_id_campaigns", ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["trial_id"], ["trials.id"],
            name="fk_funnel_candidates_trial_id_trials", ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_funnel_candidates"),
        sa.UniqueConstraint(
            "campaign_id", "config_hash", name="uq_funnel_candidates_campaign_id_config_hash"
        ),
    )


def downgrade() -> None:
    op.drop_table("funnel_candidates")
    op.drop_table("funnel_stages")
    op.drop_table("bench_results")
    op.drop_table("bench_jobs")
    op.drop_table("agents")
    with op.batch_alter_table("trials") as batch:
        batch.drop_column("parent_trial_id")
        batch.drop_column("rung")
        batch.drop_column("lease_expires_at")
        batch.drop_column("lease_owner")
