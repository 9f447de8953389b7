"""Data API keys: minted, listed, revoked, and recognised on every call.

A key reads `cp_<environment>_<32 random base62 characters><6-character CRC32 of them>`: the prefix says
where it belongs, the checksum turns a truncated or mistyped key away without a database read, and only an
HMAC-SHA256 of the whole key is stored. A replica trusts a key it has checked for `key_cache_seconds`
(under one second), so a revocation anywhere reaches every replica within that.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
import uuid
import zlib
from dataclasses import dataclass
from datetime import timedelta

from cachetools import TTLCache
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from carpulse.api_key.errors import ApiKeyNotFound, InvalidApiKey
from carpulse.api_key.repository import ApiKeyRepository
from carpulse.config import Settings
from carpulse.kit.clock import Clock
from carpulse.kit.logs import get_logger
from carpulse.models import Account, AccountRole, ApiKey
from carpulse.models.base import utcnow

log = get_logger("carpulse.api_key")

_ALPHABET = string.digits + string.ascii_letters
_RANDOM_CHARS = 32  # 190 bits
_CHECK_CHARS = 6  # 62**6 > 2**32: a CRC32 always fits
_SHOWN_CHARS = 6  # of the random part, in the key's display prefix
# `last_used_at` is written at most this often per key: not one UPDATE per call.
_TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class KeyHolder:
    """Who a recognised key speaks for, as their account stood when the key was checked."""

    key_id: uuid.UUID
    account_id: uuid.UUID
    role: AccountRole
    active: bool


def _base62(number: int, width: int) -> str:
    digits = []
    while number:
        number, digit = divmod(number, 62)
        digits.append(_ALPHABET[digit])
    return "".join(reversed(digits)).rjust(width, "0")


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode("ascii")), _CHECK_CHARS)


def new_key_cache(settings: Settings) -> TTLCache[str, KeyHolder | None]:
    """A replica's memory of the keys it checked (and of the HMACs that matched none)."""
    return TTLCache(maxsize=50_000, ttl=settings.data_api.key_cache_seconds)


class ApiKeyService:
    def prefix(self, settings: Settings) -> str:
        return f"cp_{settings.api_key_environment}_"

    def hash(self, settings: Settings, key: str) -> str:
        secret = settings.data_api.key_secret.get_secret_value().encode()
        return hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()

    async def create(
        self, db: AsyncSession, settings: Settings, account: Account, name: str, clock: Clock
    ) -> tuple[ApiKey, str]:
        """A new key of `account`; returns the row and the whole key, which is never stored."""
        body = "".join(secrets.choice(_ALPHABET) for _ in range(_RANDOM_CHARS))
        key = f"{self.prefix(settings)}{body}{_checksum(body)}"
        row = ApiKey(
            account_id=account.id,
            name=name.strip() or name,
            environment=settings.api_key_environment,
            display_prefix=f"{self.prefix(settings)}{body[:_SHOWN_CHARS]}",
            secret_hash=self.hash(settings, key),
            created_at=clock.now(),
        )
        await ApiKeyRepository(db).add(row)
        log.info("api_key.created", account_id=str(account.id), key_id=str(row.id))
        return row, key

    async def of_account(self, db: AsyncSession, account: Account) -> list[ApiKey]:
        return await ApiKeyRepository(db).of_account(account.id)

    async def owned(self, db: AsyncSession, account: Account, key_id: uuid.UUID) -> ApiKey:
        """One of the caller's keys; another account's key id answers 404."""
        row = await ApiKeyRepository(db).get_owned(account.id, key_id)
        if row is None:
            raise ApiKeyNotFound("You have no API key with this id.")
        return row

    async def revoke(
        self,
        db: AsyncSession,
        account: Account,
        key_id: uuid.UUID,
        clock: Clock,
        cache: TTLCache[str, KeyHolder | None],
    ) -> ApiKey:
        """Revoke one of the caller's keys (again: no change); another account's key id answers 404."""
        row = await self.owned(db, account, key_id)
        if row.revoked_at is None:
            row.revoked_at = clock.now()
            await db.flush()
            log.info("api_key.revoked", account_id=str(account.id), key_id=str(row.id))
        cache.pop(row.secret_hash, None)  # this replica at once; the others within key_cache_seconds
        return row

    def check_format(self, settings: Settings, key: str) -> None:
        """Refuse what cannot be one of this deployment's keys, without reading the database."""
        if not key.startswith("cp_"):
            raise InvalidApiKey("This is not a Car Pulse API key (they start with 'cp_live_' or 'cp_test_').")
        prefix = self.prefix(settings)
        if not key.startswith(prefix):
            other = "cp_test_" if prefix == "cp_live_" else "cp_live_"
            if key.startswith(other):
                raise InvalidApiKey(f"A '{other}' key is not valid here: this API takes '{prefix}' keys.")
            raise InvalidApiKey("This is not a Car Pulse API key (they start with 'cp_live_' or 'cp_test_').")
        rest = key[len(prefix) :]
        body, check = rest[:-_CHECK_CHARS], rest[-_CHECK_CHARS:]
        if len(rest) != _RANDOM_CHARS + _CHECK_CHARS or not rest.isascii() or not rest.isalnum():
            raise InvalidApiKey("The API key is incomplete or mistyped: copy it again in full.")
        if not hmac.compare_digest(_checksum(body), check):
            raise InvalidApiKey("The API key is incomplete or mistyped: copy it again in full.")

    async def recognise(
        self,
        db: AsyncSession,
        settings: Settings,
        key: str,
        cache: TTLCache[str, KeyHolder | None],
    ) -> tuple[KeyHolder, bool]:
        """The holder of a live key, and whether its `last_used_at` is due a write; `InvalidApiKey` else."""
        self.check_format(settings, key)
        digest = self.hash(settings, key)
        due = False
        if digest in cache:
            holder = cache[digest]
        else:
            found = await ApiKeyRepository(db).by_hash(digest)
            holder = None
            if found is not None and found[0].revoked_at is None:
                row, account = found
                holder = KeyHolder(row.id, row.account_id, account.role, account.is_active)
                due = row.last_used_at is None or utcnow() - row.last_used_at >= _TOUCH_EVERY
            cache[digest] = holder
        if holder is None:
            raise InvalidApiKey("The API key is revoked or unknown.")
        if not holder.active:
            raise InvalidApiKey("The account of this API key is disabled.")
        return holder, due

    async def touch(self, sessionmaker: async_sessionmaker[AsyncSession], key_id: uuid.UUID, clock: Clock) -> None:
        """Note when a key was last used, in a short write of its own (never inside a caller's read)."""
        try:
            async with sessionmaker() as db:
                await ApiKeyRepository(db).touch(key_id, clock.now())
                await db.commit()
        except (DBAPIError, OSError) as exc:  # telemetry: a busy or lost database must not fail the call
            log.warning("api_key.touch_failed", key_id=str(key_id), error=type(exc).__name__)


api_keys = ApiKeyService()
