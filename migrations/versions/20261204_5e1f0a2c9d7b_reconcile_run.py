"""reconcile_run: each round of the reconciler, when and what it found, for the admin pages

Revision ID: 5e1f0a2c9d7b
Revises: 13bad86048fd
Create Date: 2026-12-04 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e1f0a2c9d7b"
down_revision: str | None = "13bad86048fd"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reconcile_run",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("process", sa.String(length=128), nullable=False, comment="host and pid of the replica"),
        sa.Column(
            "found",
            sa.JSON(),
            nullable=False,
            comment="per sweep: the lost work it re-queued or the rows it handled",
        ),
        sa.Column("failed", sa.JSON(), nullable=False, comment="per sweep that raised: the error"),
        sa.Column("total_found", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconcile_run")),
    )
    op.create_index(op.f("ix_reconcile_run_started_at"), "reconcile_run", ["started_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_reconcile_run_started_at"), table_name="reconcile_run")
    op.drop_table("reconcile_run")
