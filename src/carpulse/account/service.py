"""Accounts: the seeded admin, lookups for authentication."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from carpulse.account.repository import AccountRepository
from carpulse.kit.logs import get_logger
from carpulse.kit.passwords import hash_password, verify_password
from carpulse.models import Account, AccountRole

log = get_logger("carpulse.account")


class AccountService:
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
