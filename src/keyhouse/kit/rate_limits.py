"""Every rate limit of the service, counted in one `limits` storage.

The storage is process memory on the embedded default (one process) and Redis when
`KEYHOUSE_REDIS_URL` is set, so that every instance counts against the same budget.
A limit that is used up raises `RateLimited`: 429, `Retry-After`, `{"error": "rate_limited"}`.
"""

import math
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import structlog
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter
from limits.errors import StorageError

if TYPE_CHECKING:
    from redis.asyncio import ConnectionPool

from keyhouse.config import ConfigurationError, Settings
from keyhouse.errors import InvalidInput, KeyhouseError
from keyhouse.metrics.recorder import Metrics

HINT_LENGTH = 12  # a key's display hint: failures against one key are counted by it
log = structlog.get_logger(__name__)


class RateLimited(KeyhouseError):
    """A rate limit is used up; `Retry-After` says when to try again."""

    status = 429
    code = "rate_limited"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after


def parse_limit(text: str) -> RateLimitItem:
    """A limit such as `600/minute` or `5/15 minutes`, or InvalidInput."""
    problem = f"rate_limit: {text!r} is not a rate such as '600/minute' or '10000/hour'."
    try:
        limit = parse(text)
    except ValueError as error:
        raise InvalidInput(problem) from error
    if limit.amount < 1:
        raise InvalidInput(problem)
    return limit


@dataclass(frozen=True, slots=True)
class Budgets:
    """The configured limits, parsed once."""

    auth_failures_per_ip: RateLimitItem
    auth_failures_per_key_prefix: RateLimitItem
    login_attempts_per_email: RateLimitItem
    login_attempts_per_ip: RateLimitItem
    oauth_registrations_per_ip: RateLimitItem
    key_requests: RateLimitItem
    secret_scanning_reports_per_ip: RateLimitItem

    @classmethod
    def from_settings(cls, settings: Settings) -> "Budgets":
        """Parse every limit of `settings`; a bad one stops the service from starting."""
        try:
            limits = {item.name: parse_limit(getattr(settings, item.name)) for item in fields(cls)}
            return cls(**limits)
        except InvalidInput as error:
            raise ConfigurationError(error.detail) from error


class RateLimits:
    """Tests and counts every limit; the one place that answers 429."""

    def __init__(self, settings: Settings, metrics: Metrics | None = None) -> None:
        self.budgets = Budgets.from_settings(settings)
        self._metrics = metrics or Metrics()
        self._pool: ConnectionPool | None = None
        # Fixed windows: one counter per check, the cheapest strategy on the request path.
        self._limiter = FixedWindowRateLimiter(self._storage(settings))

    def _storage(self, settings: Settings) -> Storage:
        """Redis when configured (shared by every instance), else this process's memory."""
        if not settings.redis_url:
            return MemoryStorage()
        try:  # an extra: `pip install 'keyhouse[redis]'`
            from redis.asyncio import ConnectionPool
        except ImportError as error:
            raise ConfigurationError(
                "KEYHOUSE_REDIS_URL is set but the redis client is not installed: "
                "install keyhouse[redis]"
            ) from error
        # Our own pool, so that shutting down closes its connections.
        self._pool = ConnectionPool.from_url(settings.redis_url)
        uri = "async+rediss://" if settings.redis_url.startswith("rediss:") else "async+redis://"
        pool: object = self._pool  # limits types its options as scalars; it takes a pool
        return RedisStorage(
            uri,
            implementation="redispy",
            key_prefix="keyhouse",
            connection_pool=pool,  # type: ignore[arg-type]
            # Redis's errors as limits' own, so that this module never imports redis itself.
            wrap_exceptions=True,
        )

    async def close(self) -> None:
        """Close the connections to Redis, if any."""
        if self._pool is not None:
            await self._pool.aclose()

    async def _allows(self, limit: RateLimitItem, *identifiers: str) -> bool:
        try:
            return await self._limiter.test(limit, *identifiers)
        except StorageError as error:  # a rate-limit store outage must not take the API down
            log.warning("rate_limit_store_down", error=type(error.storage_error).__name__)
            return True

    async def _hit(self, limit: RateLimitItem, *identifiers: str) -> bool:
        try:
            return await self._limiter.hit(limit, *identifiers)
        except StorageError as error:
            log.warning("rate_limit_store_down", error=type(error.storage_error).__name__)
            return True

    async def _refuse(self, limit: RateLimitItem, detail: str, *identifiers: str) -> RateLimited:
        self._metrics.rate_limited(identifiers[0])  # the limit's name, e.g. key_requests
        try:
            stats = await self._limiter.get_window_stats(limit, *identifiers)
            wait = math.ceil(stats.reset_time - time.time())
        except StorageError:
            wait = limit.get_expiry()
        return RateLimited(detail, retry_after=max(1, min(wait, limit.get_expiry())))

    async def _require(self, limit: RateLimitItem, detail: str, *identifiers: str) -> None:
        if not await self._allows(limit, *identifiers):
            raise await self._refuse(limit, detail, *identifiers)

    @asynccontextmanager
    async def authentication(self, *, client: str, token: str) -> AsyncIterator[None]:
        """Refuse while the address or the key's hint has used up its failures; count failures.

        Only a credential that was sent and refused (401 invalid_token) counts: a request
        without credentials is how MCP clients discover that they must sign in.
        """
        hint = token[:HINT_LENGTH]
        await self._require(
            self.budgets.auth_failures_per_ip,
            "Too many failed authentications from this address; retry later.",
            "auth_failures_ip",
            client,
        )
        if hint:
            await self._require(
                self.budgets.auth_failures_per_key_prefix,
                "Too many failed authentications with this key; retry later.",
                "auth_failures_key",
                hint,
            )
        try:
            yield
        except KeyhouseError as error:
            if error.code == "invalid_token":
                await self._hit(self.budgets.auth_failures_per_ip, "auth_failures_ip", client)
                if hint:
                    await self._hit(
                        self.budgets.auth_failures_per_key_prefix, "auth_failures_key", hint
                    )
            raise

    async def refused_input(self, *, client: str, signing_in: bool) -> None:
        """Count a request refused for its input as a failed attempt from its address.

        Raises RateLimited instead once the address has used up its failures, so that
        malformed requests cannot probe faster than wrong keys or passwords.
        """
        budgets = [(self.budgets.auth_failures_per_ip, "auth_failures_ip")]
        if signing_in:
            budgets.append((self.budgets.login_attempts_per_ip, "login_ip"))
        for limit, name in budgets:
            await self._require(limit, "Too many failed attempts from this address.", name, client)
            await self._hit(limit, name, client)

    async def count_request(self, key_id: uuid.UUID | None, rate_limit: str | None) -> None:
        """Count one request against the key's own limit (set by an admin, else the default)."""
        if key_id is None:
            return
        limit = parse_limit(rate_limit) if rate_limit else self.budgets.key_requests
        key = str(key_id)
        if not await self._hit(limit, "key_requests", key):
            detail = f"This key may make {limit} requests; slow down."
            raise await self._refuse(limit, detail, "key_requests", key)

    async def sign_in_allowed(self, *, email: str, client: str) -> None:
        """Refuse another sign-in once the email or the address has used up its failures."""
        detail = "Too many failed sign-in attempts. Wait a few minutes, then try again."
        await self._require(self.budgets.login_attempts_per_email, detail, "login_email", email)
        await self._require(self.budgets.login_attempts_per_ip, detail, "login_ip", client)

    async def sign_in_failed(self, *, email: str, client: str) -> None:
        """Count a failed sign-in against both the email and the address."""
        await self._hit(self.budgets.login_attempts_per_email, "login_email", email)
        await self._hit(self.budgets.login_attempts_per_ip, "login_ip", client)

    async def sign_in_succeeded(self, *, email: str) -> None:
        """Forget the email's failures (the address keeps its count)."""
        try:
            await self._limiter.clear(self.budgets.login_attempts_per_email, "login_email", email)
        except StorageError as error:
            log.warning("rate_limit_store_down", error=type(error.storage_error).__name__)

    async def secret_scanning_report(self, *, client: str) -> None:
        """Count one leak report from this address (signed or not: checking costs too)."""
        limit = self.budgets.secret_scanning_reports_per_ip
        if not await self._hit(limit, "secret_scanning", client):
            detail = "Too many leak reports from this address; retry later."
            raise await self._refuse(limit, detail, "secret_scanning", client)

    async def oauth_registration(self, *, client: str) -> None:
        """Count one dynamic client registration from this address."""
        limit = self.budgets.oauth_registrations_per_ip
        if not await self._hit(limit, "oauth_register", client):
            detail = "Too many client registrations from this address; retry later."
            raise await self._refuse(limit, detail, "oauth_register", client)
