"""data api: plans with dated terms, clients, API keys, usage records, idempotent responses, invoices

The seed's three plans are created with terms in force from the start: Basic 100 requests a day at EUR 0.10,
Premium 1,000 at EUR 0.05, Enterprise unlimited at EUR 0.03 (net, per billable unit).

Revision ID: 8f3b6d2a9e71
Revises: 5a7c2e9b4d18
Create Date: 2026-12-03 11:54:27.641893
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "8f3b6d2a9e71"
down_revision: str | None = "5a7c2e9b4d18"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# code, name, daily quota (None: unlimited), net cents per unit, requests per second; Basic is the default.
_PLANS = (
    ("basic", "Basic", 100, 10, 5),
    ("premium", "Premium", 1000, 5, 20),
    ("enterprise", "Enterprise", None, 3, 100),
)
_SINCE = date(2026, 1, 1)


def upgrade() -> None:
    op.create_table(
        "invoice_sequence",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_invoice_sequence")),
    )
    op.create_table(
        "plan",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False, comment="the plan a newly registered client is on"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan")),
        sa.UniqueConstraint("code", name=op.f("uq_plan_code")),
    )
    op.create_table(
        "api_key",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("environment", sa.String(length=8), nullable=False, comment="live or test: the key's prefix"),
        sa.Column(
            "display_prefix",
            sa.String(length=24),
            nullable=False,
            comment="the key's first characters, to recognise it in a list",
        ),
        sa.Column("secret_hash", sa.String(length=64), nullable=False, comment="HMAC-SHA256, hex"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_api_key_account_id_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_api_key_secret_hash")),
    )
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_key_account_id"), ["account_id"], unique=False)

    op.create_table(
        "data_client",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("suspended_reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_data_client_account_id_account"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plan.id"], name=op.f("fk_data_client_plan_id_plan"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_data_client")),
    )
    op.create_table(
        "idempotent_response",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False, comment="SHA-256 of method, path and body"),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_idempotent_response_account_id_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotent_response")),
        sa.UniqueConstraint("account_id", "key", name=op.f("uq_idempotent_response_account_id_key")),
    )
    with op.batch_alter_table("idempotent_response", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idempotent_response_expires_at"), ["expires_at"], unique=False)

    op.create_table(
        "invoice",
        sa.Column("id", sa.String(length=43), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False, comment="the cutoff, exclusive"),
        sa.Column("seller", sa.JSON(), nullable=False),
        sa.Column("buyer", sa.JSON(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("net_minor", sa.Integer(), nullable=False),
        sa.Column(
            "vat_treatment", sa.String(length=32), nullable=False, comment="finnish_vat, reverse_charge or outside_eu"
        ),
        sa.Column("vat_rate", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("vat_minor", sa.Integer(), nullable=False),
        sa.Column("gross_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("usage_count", sa.Integer(), nullable=False, comment="the usage records it closed"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_invoice_account_id_account"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice")),
        sa.UniqueConstraint("account_id", "period_end", name=op.f("uq_invoice_account_id_period_end")),
        sa.UniqueConstraint("number", name=op.f("uq_invoice_number")),
        sa.UniqueConstraint("year", "sequence", name=op.f("uq_invoice_year_sequence")),
    )
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invoice_account_id"), ["account_id"], unique=False)

    op.create_table(
        "plan_terms",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False, comment="a UTC day"),
        sa.Column("daily_quota", sa.Integer(), nullable=True, comment="billable units per UTC day; NULL: unlimited"),
        sa.Column("unit_price_minor", sa.Integer(), nullable=False, comment="net, per billable unit"),
        sa.Column("burst_per_second", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["plan.id"], name=op.f("fk_plan_terms_plan_id_plan"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_terms")),
        sa.UniqueConstraint("plan_id", "effective_from", name=op.f("uq_plan_terms_plan_id_effective_from")),
    )
    op.create_table(
        "usage_record",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("api_key_id", sa.Uuid(), nullable=True, comment="NULL: called with the account's JWT"),
        sa.Column("endpoint", sa.String(length=64), nullable=False, comment="the operation, e.g. vehicle.dynamic"),
        sa.Column("vin", sa.String(length=17), nullable=True, comment="NULL for model data and batches"),
        sa.Column("units", sa.Integer(), nullable=False, comment="1, or the VINs a batch answered"),
        sa.Column("plan_code", sa.String(length=32), nullable=False),
        sa.Column("unit_price_minor", sa.Integer(), nullable=False, comment="net, the plan's price that day"),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Date(), nullable=False, comment="the UTC day it counts against"),
        sa.Column("invoice_id", sa.String(length=43), nullable=True, comment="NULL until an invoice closes it"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_usage_record_account_id_account"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["api_key_id"], ["api_key.id"], name=op.f("fk_usage_record_api_key_id_api_key"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoice.id"], name=op.f("fk_usage_record_invoice_id_invoice"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_record")),
        sa.UniqueConstraint("request_id", name=op.f("uq_usage_record_request_id")),
    )
    with op.batch_alter_table("usage_record", schema=None) as batch_op:
        batch_op.create_index("ix_usage_record_account_day", ["account_id", "day"], unique=False)
        batch_op.create_index("ix_usage_record_account_invoice", ["account_id", "invoice_id"], unique=False)

    _seed_plans()


def _seed_plans() -> None:
    plan = sa.table(
        "plan",
        sa.column("id", sa.Uuid()),
        sa.column("code", sa.String()),
        sa.column("name", sa.String()),
        sa.column("currency", sa.String()),
        sa.column("is_default", sa.Boolean()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    terms = sa.table(
        "plan_terms",
        sa.column("id", sa.Uuid()),
        sa.column("plan_id", sa.Uuid()),
        sa.column("effective_from", sa.Date()),
        sa.column("daily_quota", sa.Integer()),
        sa.column("unit_price_minor", sa.Integer()),
        sa.column("burst_per_second", sa.Integer()),
    )
    now = datetime.now(UTC)
    for code, name, quota, price, burst in _PLANS:
        plan_id = uuid.uuid4()
        op.bulk_insert(
            plan,
            [
                {
                    "id": plan_id,
                    "code": code,
                    "name": name,
                    "currency": "EUR",
                    "is_default": code == "basic",
                    "created_at": now,
                    "updated_at": now,
                }
            ],
        )
        op.bulk_insert(
            terms,
            [
                {
                    "id": uuid.uuid4(),
                    "plan_id": plan_id,
                    "effective_from": _SINCE,
                    "daily_quota": quota,
                    "unit_price_minor": price,
                    "burst_per_second": burst,
                }
            ],
        )


def downgrade() -> None:
    with op.batch_alter_table("usage_record", schema=None) as batch_op:
        batch_op.drop_index("ix_usage_record_account_invoice")
        batch_op.drop_index("ix_usage_record_account_day")

    op.drop_table("usage_record")
    op.drop_table("plan_terms")
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_account_id"))

    op.drop_table("invoice")
    with op.batch_alter_table("idempotent_response", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotent_response_expires_at"))

    op.drop_table("idempotent_response")
    op.drop_table("data_client")
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_key_account_id"))

    op.drop_table("api_key")
    op.drop_table("plan")
    op.drop_table("invoice_sequence")
