"""voucher over-cap uses: late payments honoured beyond max_redemptions

Revision ID: 5a7c0e9d4b21
Revises: 5c0d7a3e9b21
Create Date: 2026-12-01 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5a7c0e9d4b21"
down_revision: str | None = "5c0d7a3e9b21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("voucher") as batch:
        batch.add_column(sa.Column("over_cap_uses", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("voucher") as batch:
        batch.drop_column("over_cap_uses")
