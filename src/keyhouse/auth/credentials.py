"""Loading a credential from the database into a cacheable Principal (the cache-miss path)."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.api_keys.models import AccessLevel, KeyKind
from keyhouse.api_keys.repository import load_credential
from keyhouse.auth.credential_cache import CachedCredential
from keyhouse.auth.principal import CredentialKind, Principal
from keyhouse.connections.service import effective_access, in_force
from keyhouse.kit.tokens import TokenKind
from keyhouse.oauth import repository as oauth
from keyhouse.users.models import Role


async def load_api_key(
    session: AsyncSession, secret_hash: str, now: datetime
) -> CachedCredential | None:
    """A usable API key (not a connection's backing key, which only tokens reach)."""
    loaded = await load_credential(session, secret_hash=secret_hash)
    if loaded is None:
        return None
    key, account = loaded
    if key.kind != KeyKind.API_KEY or not key.is_usable(now):
        return None
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
) -> CachedCredential | None:
    """A usable access token for `resource`, capped by its user's current role and scopes."""
    loaded = await oauth.load_access_token(session, secret_hash=secret_hash)
    if loaded is None:
        return None
    token, connection, key, user, account = loaded
    usable = (
        token.revoked_at is None
        and token.expires_at > now
        and token.resource == resource
        and in_force(connection, user, key, now)
    )
    if not usable:
        return None
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
