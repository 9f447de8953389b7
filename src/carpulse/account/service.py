"""Accounts: the seeded admin, lookups for authentication."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.account.repository import AccountRepository
from carpulse.config import DEVELOPMENT_ADMIN_PASSWORD
from carpulse.kit.logs import get_logger
from carpulse.kit.passwords import hash_password, verify_password
from carpulse.models import Account, AccountRole

if TYPE_CHECKING:
    from carpulse.state import State

log = get_logger("carpulse.account")


class AccountService:
    async def seed_admin(self, state: State) -> None:
        """At start: the configured admin exists, with the configured hash (the development password without one)."""
        settings = state.settings.admin
        configured = settings.password_hash.get_secret_value() if settings.password_hash else None
        async with state.sessionmaker() as session:
            await self.ensure_admin(session, settings.username, configured, DEVELOPMENT_ADMIN_PASSWORD)
            await session.commit()

    async def ensure_admin(
        self,
        session: AsyncSession,
        username: str,
        password_hash: str | None,
        development_password: str,
    ) -> Account:
        """Create the configured admin, or bring its hash and role in line with settings.

        Without a configured hash (never in production) the admin gets `development_password`.
        """
        repository = AccountRepository(session)
        account = await repository.get_by_username(username)
        if account is None:
            # Replicas starting together all find it missing: one insert lands, the others find its row.
            created = password_hash or hash_password(development_password)
            inserted = await repository.add_if_absent(username, created, AccountRole.admin)
            account = await repository.get_by_username(username)
            if account is None:
                raise RuntimeError(f"the admin account {username!r} was neither inserted nor found")
            if inserted:
                log.info("account.admin_created", account_id=str(account.id))
                return account
        if password_hash is None:
            current = account.password_hash
            keep = current is not None and verify_password(development_password, current)
            password_hash = current if keep and current else hash_password(development_password)
        if account.password_hash != password_hash or account.role is not AccountRole.admin or not account.is_active:
            account.password_hash = password_hash
            account.role = AccountRole.admin
            account.is_active = True
            await session.flush()
            log.info("account.admin_updated", account_id=str(account.id))
        return account


account = AccountService()
