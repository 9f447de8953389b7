"""observation consent: what each reading may be used for (`sharing`), and whether the simulator wrote it

Every reading so far was read for a paid report under no consent to share: they stay `private`.

Revision ID: 5a7c2e9b4d18
Revises: 9d2c4e6f1a37
Create Date: 2026-12-03 11:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5a7c2e9b4d18"
down_revision: str | None = "9d2c4e6f1a37"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("observation") as batch:
        batch.add_column(
            sa.Column(
                "sharing",
                sa.Enum(
                    "private",
                    "model_statistics",
                    "vehicle_data",
                    name="datasharing",
                    native_enum=False,
                    length=32,
                ),
                nullable=False,
                server_default="private",
                comment="the consent it was read under; the Data API reads only what it allows",
            )
        )
        batch.add_column(
            sa.Column(
                "synthetic",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
                comment="written by `carpulse simulate`: never mixed with real readings, refused in production",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("observation") as batch:
        batch.drop_column("synthetic")
        batch.drop_column("sharing")
