"""driver sign-in: Google identities of driver accounts, and their rotating refresh tokens (hashes only)

Revision ID: 13bad86048fd
Revises: 069f02e090c8
Create Date: 2026-12-04 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "13bad86048fd"
down_revision: str | None = "069f02e090c8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "driver_identity",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("picture", sa.String(length=2048), nullable=True),
        sa.Column("last_sign_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_driver_identity_account_id_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_driver_identity")),
        sa.UniqueConstraint("account_id", name=op.f("uq_driver_identity_account_id")),
        sa.UniqueConstraint("provider", "subject", name=op.f("uq_driver_identity_provider_subject")),
    )
    op.create_table(
        "driver_refresh_token",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("family_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_driver_refresh_token_account_id_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_driver_refresh_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_driver_refresh_token_token_hash")),
    )
    with op.batch_alter_table("driver_refresh_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_driver_refresh_token_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_driver_refresh_token_family_id"), ["family_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("driver_refresh_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_driver_refresh_token_family_id"))
        batch_op.drop_index(batch_op.f("ix_driver_refresh_token_account_id"))
    op.drop_table("driver_refresh_token")
    op.drop_table("driver_identity")
