"""Leaked tokens: look one up by its keyed hash, and revoke it on every instance.

A Keyhouse token found in public is revoked whatever it is: an API key, or an OAuth access or
refresh token (which ends its whole connection, as RFC 7009 revocation does).
"""

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.api_keys import repository as api_key_rows
from keyhouse.api_keys import service as api_keys
from keyhouse.api_keys.models import ApiKey, KeyKind
from keyhouse.audit.service import Actor
from keyhouse.connections import service as connections
from keyhouse.connections.models import Connection
from keyhouse.kit import tokens
from keyhouse.leaks.schemas import LeakFeedback, LeakReport
from keyhouse.oauth import repository as oauth
from keyhouse.oauth.models import TokenKind

GITHUB = Actor(label="GitHub secret scanning")
CONNECTION_TOKENS = {
    tokens.TokenKind.ACCESS_TOKEN: TokenKind.ACCESS,
    tokens.TokenKind.REFRESH_TOKEN: TokenKind.REFRESH,
}


class LeakStatus(StrEnum):
    """What a found token is now."""

    LIVE = "live"
    REVOKED = "revoked"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Found:
    """A token looked up: its status, and what revoking it would revoke."""

    status: LeakStatus
    key: ApiKey | None = None
    connection_id: uuid.UUID | None = None


async def look_up(session: AsyncSession, *, secret: bytes, token: str) -> Found:
    """What `token` is, by its keyed hash; `unknown` for anything not ours."""
    kind = tokens.parse_kind(token)
    secret_hash = tokens.keyed_hash(secret, token)
    now = datetime.now(UTC)
    if kind is tokens.TokenKind.API_KEY:
        loaded = await api_key_rows.load_credential(session, secret_hash=secret_hash)
        if loaded is None or loaded[0].kind is not KeyKind.API_KEY:
            return Found(LeakStatus.UNKNOWN)
        key = loaded[0]
        return Found(_status(key.revoked_at, key.expires_at, now), key=key)
    if kind in CONNECTION_TOKENS:
        row = await oauth.find_token(session, secret_hash=secret_hash, kind=CONNECTION_TOKENS[kind])
        connection = await session.get(Connection, row.connection_id) if row else None
        if row is None or connection is None:
            return Found(LeakStatus.UNKNOWN)
        revoked_at = row.revoked_at or connection.revoked_at
        return Found(_status(revoked_at, row.expires_at, now), connection_id=connection.id)
    return Found(LeakStatus.UNKNOWN)


def _status(revoked_at: datetime | None, expires_at: datetime | None, now: datetime) -> LeakStatus:
    if revoked_at is not None:
        return LeakStatus.REVOKED
    if expires_at is not None and expires_at <= now:
        return LeakStatus.EXPIRED
    return LeakStatus.LIVE


async def revoke(session: AsyncSession, actor: Actor, found: Found, *, reason: str) -> None:
    """Revoke a live found token; every instance refuses it once the transaction commits."""
    if found.status is not LeakStatus.LIVE:
        return
    if found.key is not None:
        await api_keys.revoke_key(session, actor, key=found.key, reason=reason)
    elif found.connection_id is not None:
        await connections.end(
            session, actor, connection_id=found.connection_id, reason="leaked", note=reason
        )


async def report(
    session: AsyncSession, actor: Actor, *, secret: bytes, reports: Sequence[LeakReport]
) -> list[LeakFeedback]:
    """Revoke every live token of a (verified) report; say which tokens are ours."""
    feedback = []
    for leak in reports:
        found = await look_up(session, secret=secret, token=leak.token)
        where = leak.url or "an unnamed public place"
        await revoke(session, actor, found, reason=f"found public at {where}")
        ours = found.status is not LeakStatus.UNKNOWN
        feedback.append(
            LeakFeedback(
                token_hash=hashlib.sha256(leak.token.encode()).hexdigest(),
                token_type=leak.type,
                label="true_positive" if ours else "false_positive",
            )
        )
    return feedback
