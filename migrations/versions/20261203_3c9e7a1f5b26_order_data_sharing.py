"""order data sharing: the buyer's choice for their cars' readings beyond the report (private until changed)

Revision ID: 3c9e7a1f5b26
Revises: 6b1e3d9a2f54
Create Date: 2026-12-03 12:20:40.153050
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3c9e7a1f5b26"
down_revision: str | None = "6b1e3d9a2f54"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("order", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "data_sharing",
                sa.Enum(
                    "private", "model_statistics", "vehicle_data", name="datasharing", native_enum=False, length=32
                ),
                server_default="private",
                nullable=False,
                comment="what the buyer lets us do with the cars' readings beyond the report; they may change it",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("order", schema=None) as batch_op:
        batch_op.drop_column("data_sharing")
