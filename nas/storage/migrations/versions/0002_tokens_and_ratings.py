"""API tokens (hashed) and blind pairwise ratings of reconstructions

Revision ID: 0002
Revises: 0001
Create Date: 2025-11-29

Written out in full (not imported from schema.py), like 0001.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TOKEN_ROLES = ("admin", "viewer", "agent")
RATING_OUTCOMES = ("first", "second", "same")


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column(
            "role",
            sa.Enum(*TOKEN_ROLES, name="token_role", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("secret_sha256", sa.String(64), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("revoked_at", _utc(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("secret_sha256", name="uq_api_tokens_secret_sha256"),
    )
    op.create_table(
        "pairwise_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("rater", sa.String(200), nullable=False),
        sa.Column("image", sa.String(500), nullable=False),
        sa.Column("first", sa.String(64), nullable=False),
        sa.Column("second", sa.String(64), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(*RATING_OUTCOMES, name="rating_outcome", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("first_bpp", sa.Float(), nullable=True),
        sa.Column("second_bpp", sa.Float(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"],
            name="fk_pairwise_ratings_campaign_id_campaigns", ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_pairwise_ratings"),
    )
    op.create_index("ix_pairwise_ratings_campaign_id", "pairwise_ratings", ["campaign_id"])


def downgrade() -> None:
    op.drop_table("pairwise_ratings")
    op.drop_table("api_tokens")
