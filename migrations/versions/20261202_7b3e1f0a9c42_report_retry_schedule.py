"""report retry schedule: a paused report waits until retry_at; throttling counts as a deferral

Revision ID: 7b3e1f0a9c42
Revises: 5a7c0e9d4b21
Create Date: 2026-12-02 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from carpulse.models.base import UTCDateTime

revision: str = "7b3e1f0a9c42"
down_revision: str | None = "5a7c0e9d4b21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("report") as batch:
        batch.add_column(
            sa.Column(
                "deferrals",
                sa.Integer(),
                server_default="0",
                nullable=False,
                comment="times a throttling vendor made it wait (not attempts)",
            )
        )
        batch.add_column(
            sa.Column(
                "retry_at",
                UTCDateTime(timezone=True),
                nullable=True,
                comment="a queued report waiting out a pause is not claimed before this",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("report") as batch:
        batch.drop_column("retry_at")
        batch.drop_column("deferrals")
