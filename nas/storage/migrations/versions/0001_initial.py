"""initial schema: campaigns, trials, results, Pareto front, hypervolume history

Revision ID: 0001
Revises:
Create Date: 2025-11-22

Written out in full (not imported from schema.py) so that this revision stays what it was when
later revisions change the models.
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

CAMPAIGN_STATUSES = ("created", "running", "interrupted", "finished")
TRIAL_STATES = ("pending", "running", "complete", "failed")


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(*CAMPAIGN_STATUSES, name="campaign_status", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_campaigns"),
        sa.UniqueConstraint("name", name="uq_campaigns_name"),
    )
    op.create_table(
        "trials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("config_hash", sa.String(128), nullable=False),
        sa.Column(
            "state",
            sa.Enum(*TRIAL_STATES, name="trial_state", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("worker", sa.String(200), nullable=True),
        sa.Column("objectives", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("feasible", sa.Boolean(), nullable=True),
        sa.Column("sampler_state", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("started_at", _utc(), nullable=True),
        sa.Column("finished_at", _utc(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"],
            name="fk_trials_campaign_id_campaigns", ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_trials"),
        sa.UniqueConstraint("campaign_id", "number", name="uq_trials_campaign_id_number"),
    )
    op.create_index("ix_trials_config_hash", "trials", ["config_hash"])
    op.create_index("ix_trials_campaign_id_state", "trials", ["campaign_id", "state"])

    op.create_table(
        "trial_metrics",
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["trial_id"], ["trials.id"],
            name="fk_trial_metrics_trial_id_trials", ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("trial_id", "name", name="pk_trial_metrics"),
    )
    op.create_table(
        "image_metrics",
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("image", sa.String(500), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["trial_id"], ["trials.id"],
            name="fk_image_metrics_trial_id_trials", ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("trial_id", "image", "name", name="pk_image_metrics"),
    )
    op.create_table(
        "measurements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("device", sa.String(200), nullable=False),
        sa.Column("backend", sa.String(100), nullable=False),
        sa.Column("part", sa.String(50), nullable=False),
        sa.Column("precision", sa.String(20), nullable=False),
        sa.Column("tile", sa.Integer(), nullable=False),
        sa.Column("warmup", sa.Integer(), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("p50_ms", sa.Float(), nullable=False),
        sa.Column("p90_ms", sa.Float(), nullable=False),
        sa.Column("estimate_12mp_ms", sa.Float(), nullable=False),
        sa.Column("cold_ms", sa.Float(), nullable=True),
        sa.Column("measured_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["trial_id"], ["trials.id"],
            name="fk_measurements_trial_id_trials", ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_measurements"),
    )
    op.create_index("ix_measurements_trial_id", "measurements", ["trial_id"])

    op.create_table(
        "artifacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["trial_id"], ["trials.id"],
            name="fk_artifacts_trial_id_trials", ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_artifacts"),
        sa.UniqueConstraint("trial_id", "filename", name="uq_artifacts_trial_id_filename"),
    )
    op.create_index("ix_artifacts_sha256", "artifacts", ["sha256"])

    op.create_table(
        "front_members",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"],
            name="fk_front_members_campaign_id_campaigns", ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["trial_id"], ["trials.id"],
            name="fk_front_members_trial_id_trials", ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("campaign_id", "trial_id", name="pk_front_members"),
    )
    op.create_table(
        "hypervolume_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("n_complete", sa.Integer(), nullable=False),
        sa.Column("hypervolume", sa.Float(), nullable=False),
        sa.Column("recorded_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"],
            name="fk_hypervolume_history_campaign_id_campaigns", ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_hypervolume_history"),
    )
    op.create_index(
        "ix_hypervolume_history_campaign_id", "hypervolume_history", ["campaign_id"]
    )


def downgrade() -> None:
    for table in (
        "hypervolume_history",
        "front_members",
        "artifacts",
        "measurements",
        "image_metrics",
        "trial_metrics",
        "trials",
        "campaigns",
    ):
        op.drop_table(table)
