"""Every table, imported here so Alembic and the metadata see them all."""

from carpulse.models.account import Account, AccountRole
from carpulse.models.base import Base

__all__ = ["Account", "AccountRole", "Base"]
