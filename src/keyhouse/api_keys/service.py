"""API keys: create (secret shown once), list, roll, revoke (in force before the call returns)."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.api_keys import repository
from keyhouse.api_keys.models import EXPIRES_SOON, AccessLevel, ApiKey, KeyKind
from keyhouse.audit.service import Actor, record
from keyhouse.auth import revocation
from keyhouse.errors import Conflict, InvalidInput, NotFound
from keyhouse.kit import tokens
from keyhouse.kit.rate_limits import parse_limit

MAX_NAME_LENGTH = 100
MAX_DESCRIPTION_LENGTH = 500
# The longest a rolled key's predecessor may keep working.
MAX_ROLL_GRACE = timedelta(days=7)


async def create(
    session: AsyncSession,
    actor: Actor,
    *,
    secret: bytes,
    account_id: uuid.UUID,
    name: str,
    access_level: AccessLevel,
    expires_at: datetime | None = None,
    rate_limit: str | None = None,
    description: str | None = None,
    request_id: str | None = None,
) -> tuple[ApiKey, str]:
    """A new API key and its plaintext secret, which the caller shows once and forgets.

    `request_id` is the create form's one-time id: `find_created` finds the key it made.
    """
    rate_limit = _checked_rate_limit(rate_limit)
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(f"name: give the key a name of 1 to {MAX_NAME_LENGTH} characters.")
    description = (description or "").strip() or None
    if description is not None and len(description) > MAX_DESCRIPTION_LENGTH:
        raise InvalidInput(
            f"description: keep the description under {MAX_DESCRIPTION_LENGTH} characters."
        )
    if expires_at is not None and expires_at <= datetime.now(UTC):
        raise InvalidInput("expires_at: an expiry must be in the future.")
    key, plaintext = await _insert(
        session,
        secret=secret,
        account_id=account_id,
        name=name,
        access_level=access_level,
        kind=KeyKind.API_KEY,
        created_by=actor.user_id,
        expires_at=expires_at,
        description=description,
        request_id=request_id,
    )
    key.rate_limit = rate_limit
    record(
        session,
        actor,
        account_id=account_id,
        action="api_key.created",
        subject_id=key.id,
        details={
            "name": name,
            "access_level": access_level.value,
            "hint": key.hint,
            "rate_limit": rate_limit,
        },
    )
    return key, plaintext


def _checked_rate_limit(rate_limit: str | None) -> str | None:
    if rate_limit is None or not rate_limit.strip():
        return None
    parse_limit(rate_limit.strip())
    return rate_limit.strip()


async def set_rate_limit(
    session: AsyncSession,
    actor: Actor,
    *,
    account_id: uuid.UUID,
    key_id: uuid.UUID,
    rate_limit: str | None,
) -> ApiKey:
    """Set a key's request limit; every instance applies it from the next request."""
    key = await repository.get(session, account_id=account_id, key_id=key_id)
    if key is None or key.kind is not KeyKind.API_KEY:
        raise NotFound("API key")
    key.rate_limit = _checked_rate_limit(rate_limit)
    # Verified credentials are cached with their limit: make every instance reload this key.
    await revocation.announce(session, {key.id})
    record(
        session,
        actor,
        account_id=account_id,
        action="api_key.rate_limit_set",
        subject_id=key.id,
        details={"name": key.name, "hint": key.hint, "rate_limit": key.rate_limit},
    )
    return key


async def create_connection_key(
    session: AsyncSession,
    *,
    secret: bytes,
    account_id: uuid.UUID,
    user_id: uuid.UUID,
    name: str,
    access_level: AccessLevel,
) -> ApiKey:
    """The key backing an MCP connection; its secret is never used, only its lifecycle."""
    key, _unused_secret = await _insert(
        session,
        secret=secret,
        account_id=account_id,
        name=name[:MAX_NAME_LENGTH],
        access_level=access_level,
        kind=KeyKind.MCP_CONNECTION,
        created_by=user_id,
        expires_at=None,
    )
    return key


async def _insert(
    session: AsyncSession,
    *,
    secret: bytes,
    account_id: uuid.UUID,
    name: str,
    access_level: AccessLevel,
    kind: KeyKind,
    created_by: uuid.UUID | None,
    expires_at: datetime | None,
    description: str | None = None,
    request_id: str | None = None,
) -> tuple[ApiKey, str]:
    plaintext = tokens.generate(tokens.TokenKind.API_KEY)
    key = ApiKey(
        account_id=account_id,
        name=name,
        kind=kind,
        access_level=access_level,
        secret_hash=tokens.keyed_hash(secret, plaintext),
        hint=tokens.hint(plaintext),
        created_by_user_id=created_by,
        expires_at=expires_at,
        description=description,
        request_id=request_id,
    )
    session.add(key)
    await session.flush()
    return key, plaintext


async def list_keys(session: AsyncSession, *, account_id: uuid.UUID) -> Sequence[ApiKey]:
    """Every API key of the account, revoked ones included (connection keys are not listed)."""
    return await repository.list_for_account(session, account_id=account_id)


async def list_api_keys(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    active_only: bool = False,
    name_contains: str | None = None,
    by_last_used: bool = False,
) -> Sequence[ApiKey]:
    """The account's keys for scripts (not connections'): all, or only the usable ones."""
    return await repository.list_for_account(
        session,
        account_id=account_id,
        usable_at=datetime.now(UTC) if active_only else None,
        name_contains=name_contains,
        by_last_used=by_last_used,
    )


async def get_api_key(session: AsyncSession, *, account_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey:
    """One key for scripts of the account (a connection's key is not one)."""
    key = await repository.find(session, account_id=account_id, key_id=key_id)
    if key is None or key.kind is not KeyKind.API_KEY:
        raise NotFound("API key")
    return key


async def find_created(
    session: AsyncSession, *, account_id: uuid.UUID, request_id: str
) -> ApiKey | None:
    """The key a create form with this one-time id already made, if any."""
    return await repository.find_by_request(session, account_id=account_id, request_id=request_id)


async def find_successor(
    session: AsyncSession, *, account_id: uuid.UUID, key_id: uuid.UUID
) -> uuid.UUID | None:
    """The id of the key that replaced `key_id` when it was rolled, if it was."""
    return await repository.find_successor(session, account_id=account_id, key_id=key_id)


async def revoke(
    session: AsyncSession, actor: Actor, *, account_id: uuid.UUID, key_id: uuid.UUID
) -> ApiKey:
    """Revoke a key: once the transaction commits, no instance accepts it."""
    key = await repository.get(session, account_id=account_id, key_id=key_id)
    if key is None:
        raise NotFound("API key")
    await revoke_key(session, actor, key=key)
    return key


async def revoke_key(
    session: AsyncSession, actor: Actor, *, key: ApiKey, reason: str | None = None
) -> None:
    """Revoke a loaded key, saying why when it was not by hand (e.g. found in public)."""
    if key.revoked_at is not None:
        return
    key.revoked_reason = reason
    await mark_revoked(session, key)
    details = {"name": key.name, "access_level": key.access_level.value, "hint": key.hint}
    record(
        session,
        actor,
        account_id=key.account_id,
        action="api_key.revoked",
        subject_id=key.id,
        details={**details, "reason": f"revoked: {reason}"} if reason else details,
    )


async def mark_revoked(session: AsyncSession, key: ApiKey) -> None:
    """Revoke `key` in this transaction; every instance refuses it once the transaction commits."""
    key.revoked_at = datetime.now(UTC)
    await revocation.announce(session, {key.id})


async def discard(session: AsyncSession, actor: Actor, *, key: ApiKey) -> None:
    """Revoke `key` and remove it from the lists: for a throwaway key, like the demo's own."""
    await revoke_key(session, actor, key=key)
    await repository.delete(session, key)


async def account_of_key(session: AsyncSession, *, key_id: uuid.UUID) -> uuid.UUID:
    """The account a key belongs to, for the operator's `key revoke KEY_ID`."""
    account_id = await repository.find_account_of_key(session, key_id=key_id)
    if account_id is None:
        raise NotFound("API key")
    return account_id


@dataclass(frozen=True, slots=True)
class Rolled:
    """A rolled key: its replacement (with the secret, shown once) and the old key."""

    key: ApiKey
    secret: str
    old: ApiKey
    old_expires_at: datetime


async def roll(
    session: AsyncSession,
    actor: Actor,
    *,
    secret: bytes,
    account_id: uuid.UUID,
    key_id: uuid.UUID,
    expire_old_in: timedelta,
) -> Rolled:
    """A new key like `key_id` (name, description, access, limit, lifetime); the old expires.

    The old key's new expiry reaches every instance like a revocation: the caches drop it
    when the transaction commits, and a cached key's expiry is checked on every hit.
    """
    if not timedelta(0) <= expire_old_in <= MAX_ROLL_GRACE:
        raise InvalidInput("expire_old_in_seconds: the old key may keep working 0 s to 7 days.")
    old = await repository.get(session, account_id=account_id, key_id=key_id)
    if old is None or old.kind is not KeyKind.API_KEY:
        raise NotFound("API key")
    now = datetime.now(UTC)
    if not old.is_usable(now):
        raise Conflict(f"This key is {old.status}; create a new key instead of rolling it.")
    if await repository.find_successor(session, account_id=account_id, key_id=old.id):
        raise Conflict("This key was already rolled; roll the key that replaced it instead.")
    new, plaintext = await _insert(
        session,
        secret=secret,
        account_id=account_id,
        name=old.name,
        access_level=old.access_level,
        kind=KeyKind.API_KEY,
        created_by=actor.user_id,
        expires_at=now + (old.expires_at - old.created_at) if old.expires_at else None,
        description=old.description,
    )
    new.rate_limit = old.rate_limit
    new.rolled_from_id = old.id
    # A grace period never lengthens the old key's life.
    grace_ends = now + expire_old_in
    old_expires_at = min(grace_ends, old.expires_at) if old.expires_at else grace_ends
    old.expires_at = old_expires_at
    await revocation.announce(session, {old.id})
    _record_roll(session, actor, old=old, new=new)
    return Rolled(key=new, secret=plaintext, old=old, old_expires_at=old_expires_at)


def _record_roll(session: AsyncSession, actor: Actor, *, old: ApiKey, new: ApiKey) -> None:
    record(
        session,
        actor,
        account_id=old.account_id,
        action="api_key.rolled",
        subject_id=old.id,
        details={
            "name": old.name,
            "old_key_id": str(old.id),
            "old_hint": old.hint,
            "old_expires_at": f"{old.expires_at:%Y-%m-%d %H:%M:%S} UTC" if old.expires_at else None,
            "new_key_id": str(new.id),
            "new_hint": new.hint,
        },
    )


async def count_expiring_soon(session: AsyncSession, *, account_id: uuid.UUID) -> int:
    """How many of the account's working keys stop working within 7 days, not yet rolled."""
    now = datetime.now(UTC)
    return await repository.count_expiring(
        session, account_id=account_id, now=now, before=now + EXPIRES_SOON
    )
