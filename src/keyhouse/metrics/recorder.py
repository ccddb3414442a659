"""`Metrics`: what the service counts for Prometheus; every method is a no-op while metrics are off.

Metrics are on when `KEYHOUSE_METRICS_TOKEN` is set. `prometheus-client` is then imported
(the `metrics` extra); without the token it is never imported and each call returns at once.
The request path only adds to plain per-process tallies (`tallies.py`); they reach
prometheus-client in batches (`hand_over`): when a scrape comes, and with several workers
also every second, so that the scrape can add up every worker's counts.
"""

import asyncio
import contextlib
from bisect import bisect_left
from collections import Counter
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine

from keyhouse.auth.credential_cache import CredentialCache
from keyhouse.auth.principal import CredentialKind
from keyhouse.config import ConfigurationError, Settings
from keyhouse.metrics import families
from keyhouse.metrics.tallies import CounterTally, HistogramTally, counted_and_merged

if TYPE_CHECKING:
    from keyhouse.metrics.instruments import Instruments

UNMATCHED = "unmatched"  # requests that matched no route share one label, whatever their path
MIN_TOKEN_LENGTH = 16
HIT, MISS = ("hit",), ("miss",)
# The `credential` label of an accepted bearer credential: what was presented.
PRESENTED_AS = {CredentialKind.API_KEY: "api_key", CredentialKind.MCP_CONNECTION: "access_token"}
# With several workers, how stale another worker's counts can be in a scrape.
HAND_OVER_SECONDS = 1.0


def route_template(scope: MutableMapping[str, Any]) -> str:
    """`/api/v1/reps/{rep_id}` for `/api/v1/reps/5f…`: a label that cannot grow without bound.

    FastAPI leaves its routes in the scope; other routes (/mcp, OAuth, static files) leave
    their endpoint and path parameters, which are put back into the path.
    """
    route = scope.get("route")
    if route is not None:
        return str(route.path)
    if "endpoint" not in scope:
        return UNMATCHED
    template: str = scope["path"]
    for name, value in scope.get("path_params", {}).items():
        template = template.replace(str(value), f"{{{name}}}", 1)
    return template


class Metrics:
    """The service's counters and histograms (docs/operations.md lists each)."""

    def __init__(
        self,
        settings: Settings | None = None,
        engine: AsyncEngine | None = None,
        cache: CredentialCache | None = None,
    ) -> None:
        self.instruments: Instruments | None = None
        self._cache = cache  # it counts its hits; they are read at hand-over
        self._hits_handed_over = 0
        # By route, method and status; handed over as REQUESTS and REQUEST_DURATION.
        self._requests = HistogramTally(families.REQUEST_DURATION)
        self._authentications = CounterTally(families.AUTHENTICATIONS)
        # Accepted credentials by kind, the hot path's share of the authentications.
        self._accepted: Counter[CredentialKind] = Counter()
        self._cache_lookups = CounterTally(families.CACHE_LOOKUPS)
        self._revocations = CounterTally(families.REVOCATIONS)
        self._revoke_wait = HistogramTally(families.REVOKE_WAIT)
        # By tool and outcome; handed over as TOOL_CALLS and TOOL_CALL_DURATION.
        self._tool_calls = HistogramTally(families.TOOL_CALL_DURATION)
        self._refusals = CounterTally(families.RATE_LIMIT_REFUSALS)
        self._handing_over: asyncio.Task[None] | None = None
        token = settings.metrics_token if settings is not None else None
        if token is None:
            return
        if len(token.get_secret_value()) < MIN_TOKEN_LENGTH:
            raise ConfigurationError(
                f"KEYHOUSE_METRICS_TOKEN must be a random string of at least "
                f"{MIN_TOKEN_LENGTH} characters."
            )
        try:
            from keyhouse.metrics import instruments
        except ImportError as error:
            raise ConfigurationError(
                "KEYHOUSE_METRICS_TOKEN is set but prometheus-client is not installed: "
                "pip install 'keyhouse[metrics]'"
            ) from error
        self.instruments = instruments.Instruments(engine)

    @property
    def enabled(self) -> bool:
        """True when the service counts (a metrics token is configured)."""
        return self.instruments is not None

    def request(self, scope: MutableMapping[str, Any], status: int, seconds: float) -> None:
        """One HTTP request: its route template (never the raw path), method, status, latency."""
        if self.instruments is None:
            return
        # Every request comes here, where each Python call costs ~1 µs (bench/README.md,
        # "Recording"): route_template's first answer and the tally's `observe`, inline.
        route = scope.get("route")
        template = str(route.path) if route is not None else route_template(scope)
        labels = (template, scope["method"], str(status))
        tally = self._requests
        slots = tally.slots.get(labels)
        if slots is None:
            slots = tally.slots[labels] = [0] * (len(tally.bounds) + 2)
        slots[bisect_left(tally.bounds, seconds)] += 1
        slots[-1] += seconds

    def authenticated(self, credential: CredentialKind) -> None:
        """A bearer credential checked and accepted (`ok`), labelled at hand-over."""
        if self.instruments is not None:
            self._accepted[credential] += 1

    def authentication(self, credential: str, outcome: str) -> None:
        """A bearer credential refused: `invalid`, `expired`, `revoked` or `throttled`."""
        if self.instruments is not None:
            self._authentications[(credential, outcome)] += 1

    def cache_missed(self) -> None:
        """The database had to answer a credential lookup (the cache counts its own hits)."""
        if self.instruments is not None:
            self._cache_lookups[MISS] += 1

    def revoked(self, keys: int) -> None:
        """Keys whose credentials this process revoked (keys, connections, users' connections)."""
        if self.instruments is not None:
            self._revocations[()] += keys

    def revoke_waited(self, seconds: float, *, acknowledged: bool) -> None:
        """How long a revoke waited for other instances, and whether they all answered."""
        if self.instruments is not None:
            outcome = "acknowledged" if acknowledged else "lease_expired"
            self._revoke_wait.observe((outcome,), seconds)

    def tool_call(self, tool: str, ok: bool, seconds: float) -> None:
        """One MCP tool call, by tool and outcome."""
        if self.instruments is not None:
            self._tool_calls.observe((tool, "ok" if ok else "error"), seconds)

    def rate_limited(self, limit: str) -> None:
        """A request refused by a rate limit, named as in the limits' store."""
        if self.instruments is not None:
            self._refusals[(limit,)] += 1

    def hand_over(self) -> None:
        """Give prometheus-client every count made since the last hand-over."""
        found = self.instruments
        if found is None:
            return
        for credential, count in self._accepted.items():
            self._authentications[(PRESENTED_AS.get(credential, "unknown"), "ok")] += count
        self._accepted.clear()
        if self._cache is not None and self._cache.hits > self._hits_handed_over:
            self._cache_lookups[HIT] += self._cache.hits - self._hits_handed_over
            self._hits_handed_over = self._cache.hits
        for counter in (
            self._authentications,
            self._cache_lookups,
            self._revocations,
            self._refusals,
        ):
            found.add_counts(counter.family, counter.take())
        found.add_observations(self._revoke_wait.family, self._revoke_wait.take())
        for counted, histogram in (
            (families.REQUESTS, self._requests),
            (families.TOOL_CALLS, self._tool_calls),
        ):
            counts, merged = counted_and_merged(histogram.take(), len(histogram.family.labels))
            found.add_counts(counted, counts)
            found.add_observations(histogram.family, merged)

    def exposition(self) -> bytes:
        """Every metric as Prometheus text, this process's latest counts included."""
        if self.instruments is None:
            raise RuntimeError("metrics are off")
        self.hand_over()
        return self.instruments.exposition()

    async def start(self) -> None:
        """With several workers, hand counts over every second, so that any worker's scrape
        sees the others' (one process hands over when it is scraped, and needs no task)."""
        if self.instruments is not None and self.instruments.multiprocess:
            self._handing_over = asyncio.create_task(self._hand_over_forever())

    async def stop(self) -> None:
        """Hand over what is left, so that a worker's last counts outlive it."""
        if self._handing_over is not None:
            self._handing_over.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._handing_over
        self.hand_over()

    async def _hand_over_forever(self) -> None:
        while True:
            await asyncio.sleep(HAND_OVER_SECONDS)
            self.hand_over()
