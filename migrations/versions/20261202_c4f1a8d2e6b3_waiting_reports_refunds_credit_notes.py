"""waiting reports, refunds on orders, credit notes with their own gap-free series

A report whose car did not give its headline facts waits (`waiting_for_vehicle`, too long for the old
16 characters); a refunded order records what went back; a refund cancels the receipt by a credit note.

Revision ID: c4f1a8d2e6b3
Revises: 7b3e1f0a9c42
Create Date: 2026-12-02 12:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from carpulse.models.base import UTCDateTime

revision: str = "c4f1a8d2e6b3"
down_revision: str | None = "7b3e1f0a9c42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_OPEN_REQUEST = "origin = 'request' AND status IN ('queued', 'processing', 'uploading')"
OPEN_REQUEST = "origin = 'request' AND status IN ('queued', 'processing', 'uploading', 'waiting_for_vehicle')"
STATUSES = ("queued", "processing", "uploading", "waiting_for_vehicle", "complete", "failed")
OLD_STATUSES = ("queued", "processing", "uploading", "complete", "failed")


def _open_request_index(where: str) -> None:
    op.create_index(
        "uq_report_open_request",
        "report",
        ["order_id", "vin", "locale", "package"],
        unique=True,
        postgresql_where=sa.text(where),
        sqlite_where=sa.text(where),
    )


def upgrade() -> None:
    op.drop_index("uq_report_open_request", table_name="report")
    with op.batch_alter_table("report") as batch:
        batch.alter_column(
            "status",
            existing_type=sa.Enum(*OLD_STATUSES, name="reportstatus", native_enum=False, length=16),
            type_=sa.Enum(*STATUSES, name="reportstatus", native_enum=False, length=24),
            existing_nullable=False,
        )
        batch.add_column(
            sa.Column(
                "unread_facts",
                sa.JSON(),
                nullable=True,
                comment="headline facts the car did not give on the last attempt",
            )
        )
        batch.add_column(
            sa.Column(
                "partial_accepted_at",
                UTCDateTime(timezone=True),
                nullable=True,
                comment="the customer asked for the report with what was readable",
            )
        )
    _open_request_index(OPEN_REQUEST)
    with op.batch_alter_table("order") as batch:
        batch.add_column(sa.Column("refunded_cents", sa.Integer(), nullable=True, comment="money given back, in full"))
        batch.add_column(sa.Column("refunded_at", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("refund_id", sa.String(length=255), nullable=True, comment="the provider's refund id")
        )
    op.create_table(
        "credit_note_sequence",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_credit_note_sequence")),
    )
    op.create_table(
        "credit_note",
        sa.Column("id", sa.String(length=43), nullable=False),
        sa.Column("receipt_id", sa.String(length=43), nullable=False),
        sa.Column("order_id", sa.String(length=43), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("issued_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("refund_reference", sa.String(length=255), nullable=True),
        sa.Column("discount_cents", sa.Integer(), nullable=False),
        sa.Column("net_cents", sa.Integer(), nullable=False),
        sa.Column("vat_cents", sa.Integer(), nullable=False),
        sa.Column("gross_cents", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["order.id"], name=op.f("fk_credit_note_order_id_order"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["receipt_id"], ["receipt.id"], name=op.f("fk_credit_note_receipt_id_receipt"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_note")),
        sa.UniqueConstraint("number", name=op.f("uq_credit_note_number")),
        sa.UniqueConstraint("receipt_id", name=op.f("uq_credit_note_receipt_id")),
        sa.UniqueConstraint("year", "sequence", name=op.f("uq_credit_note_year_sequence")),
    )
    op.create_index(op.f("ix_credit_note_order_id"), "credit_note", ["order_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_credit_note_order_id"), table_name="credit_note")
    op.drop_table("credit_note")
    op.drop_table("credit_note_sequence")
    with op.batch_alter_table("order") as batch:
        batch.drop_column("refund_id")
        batch.drop_column("refunded_at")
        batch.drop_column("refunded_cents")
    op.drop_index("uq_report_open_request", table_name="report")
    # A waiting report cannot be written in the old 16 characters: it goes back to the queue.
    op.execute("UPDATE report SET status = 'queued' WHERE status = 'waiting_for_vehicle'")
    with op.batch_alter_table("report") as batch:
        batch.drop_column("partial_accepted_at")
        batch.drop_column("unread_facts")
        batch.alter_column(
            "status",
            existing_type=sa.Enum(*STATUSES, name="reportstatus", native_enum=False, length=24),
            type_=sa.Enum(*OLD_STATUSES, name="reportstatus", native_enum=False, length=16),
            existing_nullable=False,
        )
    _open_request_index(OLD_OPEN_REQUEST)
