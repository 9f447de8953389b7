"""report dedupe and fair claims: one open task per requested report, and when each was claimed

Revision ID: 5c0d7a3e9b21
Revises: e291fcb3d527
Create Date: 2026-12-01 21:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import carpulse.models.base

revision: str = "5c0d7a3e9b21"
down_revision: str | None = "e291fcb3d527"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_REQUEST = "origin = 'request' AND status IN ('queued', 'processing', 'uploading')"


def upgrade() -> None:
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "claimed_at",
                carpulse.models.base.UTCDateTime(timezone=True),
                nullable=True,
                comment="when a worker last took it: its order's turn in the fair queue",
            )
        )
    # Requests made before this revision may already hold duplicates: keep the oldest open one of each.
    op.execute(
        "UPDATE report SET status = 'failed', failure_reason = 'A duplicate of an earlier request.' "
        "WHERE origin = 'request' AND status IN ('queued', 'processing', 'uploading') AND EXISTS ("
        "SELECT 1 FROM report AS earlier WHERE earlier.origin = 'request' "
        "AND earlier.status IN ('queued', 'processing', 'uploading') AND earlier.order_id = report.order_id "
        "AND earlier.vin = report.vin AND earlier.locale = report.locale AND earlier.package = report.package "
        "AND (earlier.created_at < report.created_at OR (earlier.created_at = report.created_at "
        "AND earlier.id < report.id)))"
    )
    op.create_index(
        "uq_report_open_request",
        "report",
        ["order_id", "vin", "locale", "package"],
        unique=True,
        postgresql_where=sa.text(OPEN_REQUEST),
        sqlite_where=sa.text(OPEN_REQUEST),
    )


def downgrade() -> None:
    op.drop_index(
        "uq_report_open_request",
        table_name="report",
        postgresql_where=sa.text(OPEN_REQUEST),
        sqlite_where=sa.text(OPEN_REQUEST),
    )
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_column("claimed_at")
