"""Loading a credential from the database into a cacheable Principal (the cache-miss path)."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.api_keys.models import AccessLevel, KeyKind
from keyhouse.api_keys.repository import load_credential
from keyhouse.auth.credential_cache import CachedCredential
from keyhouse.auth.principal import CredentialKind, Principal
from keyhouse.connections.service import effective_access
from keyhouse.kit.tokens import TokenKind
from keyhouse.oauth import repository as oauth
from keyhouse.users.models import Role


class Refusal(StrEnum):
    """Why a stored credential was refused: counted by metrics, never told to the caller."""

    INVALID = "invalid"
    EXPIRED = "expired"
    REVOKED = "revoked"


async def load_api_key(
    session: AsyncSession, secret_hash: str, now: datetime
) -> CachedCredential | Refusal:
    """A usable API key (not a connection's backing key, which only tokens reach)."""
    loaded = await load_credential(session, secret_hash=secret_hash)
    if loaded is None or loaded[0].kind != KeyKind.API_KEY:
        return Refusal.INVALID
    key, account = loaded
    if key.revoked_at is not None:
        return Refusal.REVOKED
    if not key.is_usable(now):
        return Refusal.EXPIRED
    principal = Principal(
        account_id=account.id,
        account_slug=account.slug,
        account_name=account.name,
        access=key.access_level,
        credential=CredentialKind.API_KEY,
        credential_id=key.id,
        credential_name=key.name,
        key_id=key.id,
        rate_limit=key.rate_limit,
    )
    expires_at = key.expires_at.timestamp() if key.expires_at else None
    return CachedCredential(principal, expires_at, TokenKind.API_KEY)


async def load_access_token(
    session: AsyncSession, secret_hash: str, now: datetime, *, resource: str
) -> CachedCredential | Refusal:
    """A usable access token for `resource`, capped by its user's current role and scopes."""
    loaded = await oauth.load_access_token(session, secret_hash=secret_hash)
    if loaded is None or loaded[0].resource != resource:
        return Refusal.INVALID
    token, connection, key, user, account = loaded
    ended = token.revoked_at, connection.revoked_at, key.revoked_at
    if any(moment is not None for moment in ended) or not user.active:
        return Refusal.REVOKED
    if token.expires_at <= now or not key.is_usable(now):
        return Refusal.EXPIRED
    access = effective_access(connection.granted_access, user)
    if "write" not in token.scopes.split():  # a refresh narrowed the scope
        access = AccessLevel.READ_ONLY
    principal = Principal(
        account_id=account.id,
        account_slug=account.slug,
        account_name=account.name,
        access=access,
        credential=CredentialKind.MCP_CONNECTION,
        credential_id=connection.id,
        credential_name=connection.client_name,
        key_id=key.id,
        user_id=user.id,
        user_email=user.email,
        role_allows_write=user.role == Role.ADMIN,
        rate_limit=key.rate_limit,
    )
    return CachedCredential(principal, token.expires_at.timestamp(), TokenKind.ACCESS_TOKEN)
