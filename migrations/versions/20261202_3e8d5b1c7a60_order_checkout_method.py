"""order checkout method: the one payment method a checkout was restricted to (MobilePay, Apple Pay, Google Pay)

Revision ID: 3e8d5b1c7a60
Revises: c4f1a8d2e6b3
Create Date: 2026-12-02 12:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3e8d5b1c7a60"
down_revision: str | None = "c4f1a8d2e6b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("order") as batch:
        batch.add_column(
            sa.Column(
                "checkout_method",
                sa.String(32),
                nullable=True,
                comment="the method the customer chose (the checkout offers only it); null: every method of provider",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("order") as batch:
        batch.drop_column("checkout_method")
