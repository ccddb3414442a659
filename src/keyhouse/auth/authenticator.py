"""The one choke point: an `Authorization` header becomes a Principal, or an RFC 6750 error."""

import time
from datetime import UTC, datetime

from keyhouse.api_keys.repository import load_credential
from keyhouse.api_keys.usage import UsageRecorder
from keyhouse.auth.credential_cache import CachedCredential, CredentialCache
from keyhouse.auth.principal import Principal, Scope
from keyhouse.auth.revocation import RevocationFeed
from keyhouse.db import Database
from keyhouse.errors import KeyhouseError
from keyhouse.kit import tokens

REALM = 'Bearer realm="keyhouse"'


class BearerError(KeyhouseError):
    """A bearer-token failure with its RFC 6750 `WWW-Authenticate` challenge."""

    def __init__(self, status: int, code: str, detail: str, challenge: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": challenge})
        self.status = status  # type: ignore[misc]
        self.code = code  # type: ignore[misc]


def missing_credentials() -> BearerError:
    """401 without an error code, as RFC 6750 §3.1 asks when no credential was sent."""
    return BearerError(
        401, "unauthorized", "Send an API key as `Authorization: Bearer <key>`.", REALM
    )


def invalid_token(detail: str) -> BearerError:
    """401 invalid_token: unknown, malformed, revoked or expired."""
    return BearerError(
        401,
        "invalid_token",
        detail,
        f'{REALM}, error="invalid_token", error_description="{detail}"',
    )


def invalid_request(detail: str) -> BearerError:
    """400 invalid_request: the credential was sent in a way we refuse."""
    return BearerError(400, "invalid_request", detail, f'{REALM}, error="invalid_request"')


def insufficient_scope(scope: Scope) -> BearerError:
    """403 insufficient_scope naming the scope that would be enough."""
    needed = "read write" if scope is Scope.WRITE else "read"
    return BearerError(
        403,
        "insufficient_scope",
        "This credential is read-only; this request needs full access.",
        f'{REALM}, error="insufficient_scope", scope="{needed}"',
    )


class Authenticator:
    """Verifies credentials: one HMAC and a cached lookup; on a miss, format and checksum first."""

    def __init__(
        self,
        secret: bytes,
        database: Database,
        cache: CredentialCache,
        feed: RevocationFeed,
        usage: UsageRecorder,
    ) -> None:
        self._secret = secret
        self._database = database
        self._cache = cache
        self._feed = feed
        self._usage = usage

    async def authenticate(self, authorization: str | None) -> Principal:
        """The principal behind an `Authorization` header value."""
        token = bearer_token(authorization)
        if len(token) > tokens.MAX_LENGTH:
            raise invalid_token("The key is malformed or mistyped.")
        secret_hash = tokens.keyed_hash(self._secret, token)
        trusted = self._feed.cache_is_trusted()
        # Only tokens that passed the format and checksum check are cached, so a hit needs
        # no second check; everything else is checked before it can reach the database.
        credential = self._cache.get(secret_hash) if trusted else None
        if credential is None:
            if tokens.parse_kind(token) is not tokens.TokenKind.API_KEY:
                raise invalid_token("The key is malformed or mistyped.")
            credential = await self._load(secret_hash, trusted=trusted)
        if credential.expires_at is not None and credential.expires_at <= time.time():
            raise invalid_token("The key has expired.")
        self._usage.touch(credential.principal.key_id)
        return credential.principal

    async def _load(self, secret_hash: str, *, trusted: bool) -> CachedCredential:
        generation = self._cache.generation
        async with self._database.sessions() as session:
            loaded = await load_credential(session, secret_hash=secret_hash)
        if loaded is None:
            raise invalid_token("The key is unknown or has been revoked.")
        key, account = loaded
        if not key.is_usable(datetime.now(UTC)):
            raise invalid_token("The key has been revoked or has expired.")
        credential = CachedCredential(
            principal=Principal(
                account_id=account.id,
                account_slug=account.slug,
                account_name=account.name,
                access=key.access_level,
                key_id=key.id,
                key_name=key.name,
                key_kind=key.kind,
            ),
            expires_at=key.expires_at.timestamp() if key.expires_at else None,
        )
        if trusted:
            self._cache.put(secret_hash, credential, generation)
        return credential


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
