"""Sign-in throttling: failed attempts counted per email and per client address.

Counters live in process memory (`limits`' moving window), which is enough for the embedded
single-process default; a shared store for many instances comes with the rate-limit work.
"""

from limits import parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from keyhouse.config import Settings


class LoginThrottle:
    """Says whether another sign-in attempt may be tried, and counts the failures."""

    def __init__(self, settings: Settings) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._per_email = parse(settings.login_attempts_per_email)
        self._per_address = parse(settings.login_attempts_per_ip)

    async def allows(self, *, email: str, address: str) -> bool:
        """False once either the email or the address has used up its failures."""
        return await self._limiter.test(
            self._per_email, "email", email
        ) and await self._limiter.test(self._per_address, "address", address)

    async def failed(self, *, email: str, address: str) -> None:
        """Count a failed attempt against both."""
        await self._limiter.hit(self._per_email, "email", email)
        await self._limiter.hit(self._per_address, "address", address)

    async def succeeded(self, *, email: str) -> None:
        """Forget the email's failures (the address keeps its count)."""
        await self._limiter.clear(self._per_email, "email", email)
