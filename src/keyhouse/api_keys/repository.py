"""SQL of API keys; every query but the hash lookup is scoped by account."""

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import sqlalchemy
from sqlalchemy import bindparam, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from keyhouse.accounts.models import Account
from keyhouse.api_keys.models import ApiKey, KeyKind
from keyhouse.usage.models import KeyUsageDay


async def load_credential(
    session: AsyncSession, *, secret_hash: str
) -> tuple[ApiKey, Account] | None:
    """The key with this keyed hash and its account (the hash identifies the account)."""
    query = (
        select(ApiKey, Account)
        .join(Account, Account.id == ApiKey.account_id)
        .where(ApiKey.secret_hash == secret_hash)
    )
    row = (await session.execute(query)).first()
    return None if row is None else (row[0], row[1])


async def get(session: AsyncSession, *, account_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey | None:
    """A key of the account, locked for update where the database supports it."""
    query = (
        select(ApiKey).where(ApiKey.account_id == account_id, ApiKey.id == key_id).with_for_update()
    )
    return (await session.scalars(query)).one_or_none()


async def find(session: AsyncSession, *, account_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey | None:
    """A key of the account, read without a lock."""
    query = select(ApiKey).where(ApiKey.account_id == account_id, ApiKey.id == key_id)
    return (await session.scalars(query)).one_or_none()


async def delete(session: AsyncSession, key: ApiKey) -> None:
    """Delete a key's row and its usage counts (its revocation was announced first)."""
    await session.execute(sqlalchemy.delete(KeyUsageDay).where(KeyUsageDay.api_key_id == key.id))
    await session.delete(key)
    await session.flush()


async def find_by_request(
    session: AsyncSession, *, account_id: uuid.UUID, request_id: str
) -> ApiKey | None:
    """The key of the account that the create form with this one-time id made."""
    query = select(ApiKey).where(ApiKey.account_id == account_id, ApiKey.request_id == request_id)
    return (await session.scalars(query)).one_or_none()


async def find_account_of_key(session: AsyncSession, *, key_id: uuid.UUID) -> uuid.UUID | None:
    """The account a key belongs to (for operators who know only the key id)."""
    query = select(ApiKey.account_id).where(ApiKey.id == key_id, ApiKey.kind == KeyKind.API_KEY)
    return await session.scalar(query)


async def list_for_account(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    usable_at: datetime | None = None,
    name_contains: str | None = None,
    by_last_used: bool = False,
) -> Sequence[ApiKey]:
    """The account's API keys, newest (or most recently used) first.

    `usable_at` keeps only keys neither revoked nor expired then; `name_contains` matches
    the name in any case.
    """
    query = select(ApiKey).where(ApiKey.account_id == account_id, ApiKey.kind == KeyKind.API_KEY)
    if usable_at is not None:
        query = query.where(
            ApiKey.revoked_at.is_(None),
            or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > usable_at),
        )
    if name_contains:
        query = query.where(ApiKey.name.icontains(name_contains, autoescape=True))
    recent_use = (ApiKey.last_used_at.desc().nulls_last(),) if by_last_used else ()
    query = query.order_by(*recent_use, ApiKey.created_at.desc(), ApiKey.id)
    return (await session.scalars(query)).all()


async def find_successor(
    session: AsyncSession, *, account_id: uuid.UUID, key_id: uuid.UUID
) -> uuid.UUID | None:
    """The id of the key that replaced `key_id` when it was rolled, if any."""
    query = select(ApiKey.id).where(
        ApiKey.account_id == account_id, ApiKey.rolled_from_id == key_id
    )
    return (await session.scalars(query.limit(1))).first()


async def count_expiring(
    session: AsyncSession, *, account_id: uuid.UUID, now: datetime, before: datetime
) -> int:
    """Working API keys of the account that expire between `now` and `before`, not yet rolled."""
    successor = aliased(ApiKey)
    query = select(func.count()).where(
        ~exists().where(successor.rolled_from_id == ApiKey.id),
        ApiKey.account_id == account_id,
        ApiKey.kind == KeyKind.API_KEY,
        ApiKey.revoked_at.is_(None),
        ApiKey.expires_at > now,
        ApiKey.expires_at <= before,
    )
    return await session.scalar(query) or 0


async def record_use(
    session: AsyncSession,
    *,
    used_at: datetime,
    uses: Mapping[uuid.UUID, tuple[str | None, str | None]],
    interval: timedelta,
) -> None:
    """Set last_used_at and where from (address, user agent), one statement for the batch.

    Keys written less than `interval` ago (by any instance) are skipped.
    """
    table = ApiKey.__table__.c
    statement = (
        update(ApiKey.__table__)  # type: ignore[arg-type]
        .where(
            table.id == bindparam("used_key"),
            or_(table.last_used_at.is_(None), table.last_used_at < used_at - interval),
        )
        .values(
            last_used_at=used_at,
            last_used_ip=bindparam("used_ip"),
            last_used_user_agent=bindparam("used_agent"),
        )
    )
    batch = [
        {"used_key": key_id, "used_ip": address, "used_agent": agent}
        for key_id, (address, agent) in sorted(uses.items())
    ]
    await session.execute(statement, batch)
