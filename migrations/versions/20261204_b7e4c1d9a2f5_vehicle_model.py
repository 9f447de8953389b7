"""vehicle model catalogue: one row per version as sold, a source for every figure (synced at app start)

Revision ID: b7e4c1d9a2f5
Revises: 8f3b6d2a9e71
Create Date: 2026-12-04 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from carpulse.models.base import UTCDateTime

revision: str = "b7e4c1d9a2f5"
down_revision: str | None = "8f3b6d2a9e71"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "vehicle_model",
        sa.Column("model_id", sa.String(length=96), nullable=False, comment="a stable slug"),
        sa.Column("make", sa.String(length=32), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=128), nullable=False),
        sa.Column("year_from", sa.Integer(), nullable=False),
        sa.Column("year_to", sa.Integer(), nullable=True, comment="null: still sold"),
        sa.Column("body", sa.String(length=32), nullable=True),
        sa.Column("drive", sa.String(length=8), nullable=True),
        sa.Column("motor", sa.String(length=24), nullable=True),
        sa.Column("chemistry", sa.String(length=8), nullable=True),
        sa.Column("nominal_kwh", sa.Numeric(precision=6, scale=1), nullable=True),
        sa.Column("usable_kwh", sa.Numeric(precision=6, scale=1), nullable=True),
        sa.Column("rated_range_km", sa.Numeric(precision=6, scale=1), nullable=True),
        sa.Column(
            "rated_range_error_percent",
            sa.Numeric(precision=4, scale=1),
            nullable=True,
            comment="half-width of the interval the rating lies in",
        ),
        sa.Column("range_rating", sa.String(length=64), nullable=False, comment="EPA rated or WLTP"),
        sa.Column("warranty_years", sa.Integer(), nullable=True),
        sa.Column("warranty_km", sa.Integer(), nullable=True),
        sa.Column("warranty_unlimited_km", sa.Boolean(), nullable=False),
        sa.Column("warranty_retained_percent", sa.Integer(), nullable=True),
        sa.Column("factories", sa.JSON(), nullable=False, comment="WMIs it is built under; []: any"),
        sa.Column("sources", sa.JSON(), nullable=False, comment="figure name -> {source, confirmed}"),
        sa.Column("synced_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("model_id", name=op.f("pk_vehicle_model")),
    )
    op.create_index(op.f("ix_vehicle_model_make"), "vehicle_model", ["make"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_vehicle_model_make"), table_name="vehicle_model")
    op.drop_table("vehicle_model")
