"""The authorization grant: approval → code → tokens → rotation, with replay and reuse detection."""

import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadData, URLSafeTimedSerializer
from mcp.server.auth.provider import TokenErrorCode, construct_redirect_uri
from mcp.shared.auth import OAuthToken
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.api_keys.models import AccessLevel
from keyhouse.audit.service import Actor
from keyhouse.config import Settings
from keyhouse.connections import service as connections
from keyhouse.connections.models import Connection
from keyhouse.errors import BadRequest, Forbidden
from keyhouse.kit import tokens
from keyhouse.oauth import repository
from keyhouse.oauth.models import ConnectionToken, OAuthCode, TokenKind
from keyhouse.oauth.redirects import host_of
from keyhouse.users.models import User

PENDING_MAX_AGE_SECONDS = 600
SYSTEM = Actor(label="authorization server")
ENDED = (
    "This connection has ended (disconnected, its user deactivated or its key revoked); "
    "connect again."
)


class GrantRefused(Exception):
    """A code or refresh token that can no longer yield tokens; `error` is the RFC 6749 code.

    Raised inside the grant's transaction (which it rolls back); the provider answers with
    the SDK's TokenError, which cannot pass through a context manager itself (it is frozen).
    """

    def __init__(self, error: TokenErrorCode, description: str) -> None:
        super().__init__(description)
        self.error: TokenErrorCode = error
        self.description = description


@dataclass(frozen=True)
class PendingAuthorization:
    """A validated /oauth/authorize request waiting for the user's consent."""

    client_id: str
    client_name: str
    redirect_uri: str
    redirect_uri_provided_explicitly: bool
    code_challenge: str
    state: str | None
    scopes: list[str]  # what the client is registered for: the most it can be granted
    requested: list[str]  # what it asked for now: preselects the consent page's choice
    resource: str

    @property
    def redirect_host(self) -> str:
        """Where the user's browser will be sent."""
        return host_of(self.redirect_uri)


def scopes_for(access: AccessLevel) -> list[str]:
    """OAuth scopes of an access level: read, or read write."""
    return ["read", "write"] if access == AccessLevel.FULL_ACCESS else ["read"]


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret, salt="keyhouse.oauth.pending")


def seal(settings: Settings, pending: PendingAuthorization) -> str:
    """The pending request as a signed, expiring token (any instance can open it)."""
    return str(_serializer(settings).dumps(asdict(pending)))


def unseal(settings: Settings, sealed: str) -> PendingAuthorization:
    """The pending request, or a 400 when it was tampered with or is too old."""
    try:
        data = _serializer(settings).loads(sealed, max_age=PENDING_MAX_AGE_SECONDS)
        return PendingAuthorization(**data)
    except (BadData, TypeError) as error:
        raise BadRequest(
            "This authorization request is invalid or has expired; start again."
        ) from error


def choices_for(user: User, pending: PendingAuthorization) -> list[AccessLevel]:
    """The access levels the consent page may offer this user for this client.

    An admin may grant full access even when the client asked only for `read` (assistants
    start with the `read` scope that /mcp's challenge names); the token response says what
    was granted.
    """
    allowed = [AccessLevel.READ_ONLY]
    if connections.role_allows(user.role) == AccessLevel.FULL_ACCESS and "write" in pending.scopes:
        allowed.append(AccessLevel.FULL_ACCESS)
    return allowed


def redirect_with(settings: Settings, pending: PendingAuthorization, **params: str | None) -> str:
    """The client's redirect URI with `params`, its `state`, and our issuer (RFC 9207)."""
    return construct_redirect_uri(
        pending.redirect_uri, **params, state=pending.state, iss=settings.base_url
    )


async def approve(
    session: AsyncSession,
    settings: Settings,
    *,
    user: User,
    pending: PendingAuthorization,
    access: AccessLevel,
) -> str:
    """Create the connection and a single-use code; the URL to send the browser to."""
    if access not in choices_for(user, pending):
        raise Forbidden("Your role allows read-only access for assistants; ask an admin.")
    connection = await connections.create(
        session,
        secret=settings.secret,
        user=user,
        client_id=pending.client_id,
        client_name=pending.client_name,
        redirect_host=pending.redirect_host,
        access=access,
    )
    code = tokens.generate(tokens.TokenKind.AUTHORIZATION_CODE)
    repository.add(
        session,
        OAuthCode(
            code_hash=tokens.keyed_hash(settings.secret, code),
            client_id=pending.client_id,
            connection_id=connection.id,
            scopes=" ".join(scopes_for(access)),
            code_challenge=pending.code_challenge,
            redirect_uri=pending.redirect_uri,
            redirect_uri_provided_explicitly=pending.redirect_uri_provided_explicitly,
            resource=pending.resource,
            expires_at=datetime.now(UTC) + timedelta(seconds=settings.authorization_code_seconds),
        ),
    )
    return redirect_with(settings, pending, code=code)


async def find_code(
    session: AsyncSession, settings: Settings, *, client_id: str, code: str
) -> OAuthCode | None:
    """An unused code of this client; a used one is a replay and ends its connection."""
    if tokens.parse_kind(code) is not tokens.TokenKind.AUTHORIZATION_CODE:
        return None
    row = await repository.find_code(session, code_hash=tokens.keyed_hash(settings.secret, code))
    if row is None or row.client_id != client_id:
        return None
    if row.used_at is not None:
        await connections.end(
            session, SYSTEM, connection_id=row.connection_id, reason="revoked_on_code_replay"
        )
        return None
    return row


async def redeem(
    session: AsyncSession, settings: Settings, *, code: OAuthCode
) -> OAuthToken | None:
    """Tokens for a code, once; None when a concurrent request redeemed it first (a replay).

    A code of a connection that ended since approval is `invalid_grant`; its scopes are cut
    to what the user's role allows now.
    """
    granted = await _scopes_in_force(session, connection_id=code.connection_id, scopes=code.scopes)
    if not await repository.claim_code(session, code_id=code.id, now=datetime.now(UTC)):
        await connections.end(
            session, SYSTEM, connection_id=code.connection_id, reason="revoked_on_code_replay"
        )
        return None
    return await _issue(
        session, settings, connection_id=code.connection_id, scopes=granted, resource=code.resource
    )


async def find_refresh_token(
    session: AsyncSession, settings: Settings, *, client_id: str, token: str
) -> tuple[ConnectionToken, Connection] | None:
    """A live refresh token of this client; a revoked (rotated-out) one ends the connection."""
    if tokens.parse_kind(token) is not tokens.TokenKind.REFRESH_TOKEN:
        return None
    secret_hash = tokens.keyed_hash(settings.secret, token)
    row = await repository.find_token(session, secret_hash=secret_hash, kind=TokenKind.REFRESH)
    if row is None:
        return None
    connection = await session.get_one(Connection, row.connection_id)
    if connection.client_id != client_id or connection.revoked_at is not None:
        return None
    if row.revoked_at is not None:
        await connections.end(
            session, SYSTEM, connection_id=connection.id, reason="revoked_on_token_reuse"
        )
        return None
    return row, connection


async def rotate(
    session: AsyncSession, settings: Settings, *, token: ConnectionToken, scopes: list[str]
) -> OAuthToken:
    """A new pair for a refresh token; every other refresh token of the connection is revoked.

    A refresh token of a connection that has ended is `invalid_grant`, and the new pair
    carries only the scopes the user's role allows now.

    The presented token stays valid until its successor is first used, so a client that lost
    the response can retry; using any older one is reuse and ends the connection.
    """
    granted = await _scopes_in_force(
        session, connection_id=token.connection_id, scopes=" ".join(scopes)
    )
    now = datetime.now(UTC)
    await repository.revoke_refresh_tokens(
        session, connection_id=token.connection_id, keep=token.id, now=now
    )
    token.used_at = token.used_at or now
    return await _issue(
        session,
        settings,
        connection_id=token.connection_id,
        scopes=granted,
        resource=token.resource,
    )


async def _scopes_in_force(
    session: AsyncSession, *, connection_id: uuid.UUID, scopes: str
) -> list[str]:
    """`scopes` cut to what the connection's user may have now (a demoted admin: read).

    The new tokens carry only these, so the token response says what is really in force.
    """
    view = await connections.find_in_force(session, connection_id=connection_id)
    if view is None:
        raise GrantRefused("invalid_grant", ENDED)
    allowed = scopes_for(view.effective_access)
    granted = [scope for scope in scopes.split() if scope in allowed]
    if not granted:
        raise GrantRefused("invalid_scope", "Your role now allows only the `read` scope.")
    return granted


async def revoke_for_client(session: AsyncSession, *, connection_id: uuid.UUID) -> None:
    """RFC 7009: revoking any token of a grant ends the grant (its connection)."""
    await connections.end(session, SYSTEM, connection_id=connection_id, reason="revoked_by_client")


async def _issue(
    session: AsyncSession,
    settings: Settings,
    *,
    connection_id: uuid.UUID,
    scopes: list[str],
    resource: str,
) -> OAuthToken:
    now = datetime.now(UTC)
    access = tokens.generate(tokens.TokenKind.ACCESS_TOKEN)
    refresh = tokens.generate(tokens.TokenKind.REFRESH_TOKEN)
    lifetimes = {
        TokenKind.ACCESS: (access, timedelta(seconds=settings.access_token_seconds)),
        TokenKind.REFRESH: (refresh, timedelta(days=settings.refresh_token_days)),
    }
    for kind, (secret, lifetime) in lifetimes.items():
        repository.add(
            session,
            ConnectionToken(
                connection_id=connection_id,
                kind=kind,
                secret_hash=tokens.keyed_hash(settings.secret, secret),
                scopes=" ".join(scopes),
                resource=resource,
                expires_at=now + lifetime,
            ),
        )
    await session.flush()
    return OAuthToken(
        access_token=access,
        expires_in=settings.access_token_seconds,
        scope=" ".join(scopes),
        refresh_token=refresh,
    )
