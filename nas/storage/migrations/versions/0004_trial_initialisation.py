"""What each trial's weights started from (inheritance)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06

- trials.initialisation: JSON, null for trials recorded before it existed. {"kind": "scratch"},
  {"kind": "trial", "trial_number", "config_hash", "distance", "fraction", ...} or
  {"kind": "model_dir", "path", "config_hash", "fraction", ...} (nas/domain.py TrialOutcome).

Written out in full (not imported from schema.py), like 0001.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("trials") as batch:
        batch.add_column(sa.Column("initialisation", sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("trials") as batch:
        batch.drop_column("initialisation")
