"""The one choke point: an `Authorization` header becomes a Principal, or an RFC 6750 error."""

import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.accounts.models import Account
from keyhouse.api_keys.models import AccessLevel
from keyhouse.auth import credentials
from keyhouse.auth.credential_cache import CachedCredential, CredentialCache
from keyhouse.auth.credentials import Refusal
from keyhouse.auth.principal import PRINCIPAL_KEY, CredentialKind, Principal, Scope
from keyhouse.auth.revocation import RevocationFeed
from keyhouse.db import Database
from keyhouse.errors import KeyhouseError
from keyhouse.kit import tokens
from keyhouse.kit.rate_limits import RateLimited, RateLimits
from keyhouse.kit.tokens import TokenKind
from keyhouse.metrics.recorder import Metrics
from keyhouse.users.models import Role, User
from keyhouse.web import repository as web_sessions
from keyhouse.web.models import WebSession

REALM = 'Bearer realm="keyhouse"'
REST_CREDENTIALS = frozenset({TokenKind.API_KEY})
MCP_CREDENTIALS = frozenset({TokenKind.API_KEY, TokenKind.ACCESS_TOKEN})
SESSION_IDLE = timedelta(hours=12)
# last_seen_at is written at most this often per session: idleness is measured to this precision.
SESSION_TOUCH_INTERVAL = timedelta(minutes=5)
MAX_SESSION_TOKEN_LENGTH = 128

Loader = Callable[[AsyncSession, str, datetime], Awaitable[CachedCredential | Refusal]]
# What a presented token claims to be, as metrics label it (the claim is never trusted).
PRESENTED = (("kh_key_", "api_key"), ("kh_at_", "access_token"))


class BearerError(KeyhouseError):
    """A bearer-token failure with its RFC 6750 `WWW-Authenticate` challenge."""

    def __init__(
        self, status: int, code: str, detail: str, challenge: str, outcome: str | None = None
    ) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": challenge})
        self.status = status  # type: ignore[misc]
        self.code = code  # type: ignore[misc]
        self.outcome = outcome  # for metrics; None when no credential was sent


def missing_credentials() -> BearerError:
    """401 without an error code, as RFC 6750 §3.1 asks when no credential was sent."""
    detail = "Send an API key as `Authorization: Bearer <key>`."
    return BearerError(401, "unauthorized", detail, REALM)


def invalid_token(detail: str, refusal: Refusal = Refusal.INVALID) -> BearerError:
    """401 invalid_token: unknown, malformed, revoked or expired (one answer for all)."""
    challenge = f'{REALM}, error="invalid_token", error_description="{detail}"'
    return BearerError(401, "invalid_token", detail, challenge, outcome=refusal.value)


def invalid_request(detail: str) -> BearerError:
    """400 invalid_request: the credential was sent in a way we refuse."""
    challenge = f'{REALM}, error="invalid_request"'
    return BearerError(400, "invalid_request", detail, challenge, outcome=Refusal.INVALID.value)


def insufficient_scope(scope: Scope) -> BearerError:
    """403 insufficient_scope naming the scope that would be enough."""
    needed = "read write" if scope is Scope.WRITE else "read"
    return BearerError(
        403,
        "insufficient_scope",
        "This credential is read-only; this request needs full access.",
        f'{REALM}, error="insufficient_scope", scope="{needed}"',
    )


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A live browser session: its principal and the user behind it."""

    principal: Principal
    user: User


class Authenticator:
    """Verifies credentials: one HMAC and a cached lookup; on a miss, format and checksum first."""

    def __init__(
        self,
        secret: bytes,
        database: Database,
        cache: CredentialCache,
        feed: RevocationFeed,
        metrics: Metrics,
        *,
        rate_limits: RateLimits,
        mcp_resource: str,
        session_idle: timedelta = SESSION_IDLE,
    ) -> None:
        self._secret = secret
        self._database = database
        self._cache = cache
        self._feed = feed
        self._metrics = metrics
        self._rate_limits = rate_limits
        self._loaders: dict[TokenKind, Loader] = {
            TokenKind.API_KEY: credentials.load_api_key,
            TokenKind.ACCESS_TOKEN: partial(credentials.load_access_token, resource=mcp_resource),
        }
        self._session_idle = session_idle

    async def authenticate_session(self, token: str) -> SignedIn | None:
        """The signed-in user behind a session cookie, or None unless the session is live.

        Read on every request (no cache), so a sign-out, a demotion or a deactivation is in
        force on the next request on every instance.
        """
        if not token or len(token) > MAX_SESSION_TOKEN_LENGTH:
            return None
        now = datetime.now(UTC)
        async with self._database.sessions() as session:
            found = await web_sessions.find_signed_in(
                session, token_hash=tokens.keyed_hash(self._secret, token)
            )
            if found is None:
                return None
            web_session, user, account = found
            idle = now - web_session.last_seen_at
            if not user.active or web_session.expires_at <= now or idle >= self._session_idle:
                return None
            if idle >= SESSION_TOUCH_INTERVAL:
                await web_sessions.touch(session, session_id=web_session.id, now=now)
                await session.commit()
        return SignedIn(principal=session_principal(web_session, user, account), user=user)

    async def authenticate(
        self,
        authorization: str | None,
        *,
        accept: frozenset[TokenKind] = REST_CREDENTIALS,
        client: str = "unknown",
        scope: MutableMapping[str, Any] | None = None,
    ) -> Principal:
        """The principal behind an `Authorization` header value, within the rate limits.

        The principal is left in the request's ASGI `scope`, even when its own rate limit
        then refuses the request: the access log counts every request of a key, 429s included.
        """
        try:
            principal = await self.verify(authorization, accept, client=client)
        except BearerError as error:
            if error.outcome is not None:
                self._count(authorization, error.outcome)
            raise
        except RateLimited:
            self._count(authorization, "throttled")
            raise
        self._metrics.authenticated(principal.credential)
        if scope is not None:
            scope[PRINCIPAL_KEY] = principal
        await self._rate_limits.count_request(principal.key_id, principal.rate_limit)
        return principal

    def _count(self, authorization: str | None, outcome: str) -> None:
        # Reading what the token claims to be is work for the metrics alone.
        if self._metrics.enabled:
            self._metrics.authentication(_presented(authorization), outcome)

    async def verify(
        self,
        authorization: str | None,
        accept: frozenset[TokenKind] = REST_CREDENTIALS,
        *,
        client: str = "unknown",
    ) -> Principal:
        """The credential check: format, one HMAC, the cache, then the database."""
        token = bearer_token(authorization)
        if len(token) > tokens.MAX_LENGTH:
            raise invalid_token("The credential is malformed or mistyped.")
        secret_hash = tokens.keyed_hash(self._secret, token)
        trusted = self._feed.cache_is_trusted()
        # Only tokens that passed the format and checksum check are cached, so a hit needs
        # no second check; everything else is checked before it can reach the database.
        credential = self._cache.get(secret_hash) if trusted else None
        if credential is None:
            self._metrics.cache_missed()
            credential = await self._miss(
                token, secret_hash, accept, trusted=trusted, client=client
            )
        elif credential.kind not in accept:
            raise invalid_token(_wrong_place(credential.kind))
        if credential.expires_at is not None and credential.expires_at <= time.time():
            raise invalid_token("The credential has expired.", Refusal.EXPIRED)
        return credential.principal

    async def _miss(
        self,
        token: str,
        secret_hash: str,
        accept: frozenset[TokenKind],
        *,
        trusted: bool,
        client: str,
    ) -> CachedCredential:
        """A credential not in the cache: checked, then loaded.

        Only this path can reach the database, so only it is guarded by the failed-attempt
        limits: a guesser is stopped here, while a key the service verified a moment ago keeps
        working for its owner even when someone floods its hint with wrong guesses.
        """
        async with self._rate_limits.authentication(client=client, token=token):
            kind = tokens.parse_kind(token)
            if kind is None:
                raise invalid_token("The credential is malformed or mistyped.")
            if kind not in accept:
                raise invalid_token(_wrong_place(kind))
            return await self._load(kind, secret_hash, trusted=trusted)

    async def _load(self, kind: TokenKind, secret_hash: str, *, trusted: bool) -> CachedCredential:
        generation = self._cache.generation
        async with self._database.sessions() as session:
            credential = await self._loaders[kind](session, secret_hash, datetime.now(UTC))
        if isinstance(credential, Refusal):
            raise invalid_token("The credential is unknown, revoked or expired.", credential)
        if trusted:
            self._cache.put(secret_hash, credential, generation)
        return credential


def _presented(authorization: str | None) -> str:
    token = (authorization or "").partition(" ")[2].lstrip()
    return next((label for prefix, label in PRESENTED if token.startswith(prefix)), "unknown")


def _wrong_place(kind: TokenKind) -> str:
    if kind is TokenKind.ACCESS_TOKEN:
        return "OAuth access tokens work only on the MCP server; use an API key here."
    return "This kind of token cannot authenticate a request."


def session_principal(web_session: WebSession, user: User, account: Account) -> Principal:
    """The one place a browser session becomes a Principal: access follows the user's role."""
    is_admin = user.role is Role.ADMIN
    return Principal(
        account_id=account.id,
        account_slug=account.slug,
        account_name=account.name,
        access=AccessLevel.FULL_ACCESS if is_admin else AccessLevel.READ_ONLY,
        credential=CredentialKind.SESSION,
        credential_id=web_session.id,
        credential_name="browser session",
        user_id=user.id,
        user_email=user.email,
        is_admin=is_admin,
    )


def bearer_token(authorization: str | None) -> str:
    """The single token of a `Bearer` header, or the RFC 6750 error for what was sent."""
    if not authorization:
        raise missing_credentials()
    scheme, _, rest = authorization.partition(" ")
    if scheme.lower() != "bearer":
        raise missing_credentials()
    parts = rest.split()
    if len(parts) != 1:
        raise invalid_request("Send exactly one token: `Authorization: Bearer <key>`.")
    return parts[0]
