"""Verification cost: `Authenticator.verify` called in-process, cache hit and miss.

The last column adds the rate-limit counters `authenticate` keeps on every request.
"""

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from databases import temporary_database
from keyfill import create_account, fill
from keyhouse.auth.authenticator import Authenticator
from keyhouse.auth.credential_cache import CredentialCache
from keyhouse.auth.revocation import RevocationFeed
from keyhouse.config import Settings
from keyhouse.db import Database
from keyhouse.kit.rate_limits import RateLimits
from keyhouse.metrics.recorder import Metrics
from report import Section, Target

SAMPLE = 1_000  # distinct keys presented at each table size
HIT_REPEATS = 20  # a hit round presents every sample key this many times
ROUNDS = 5  # best of, to shed scheduler noise
WARM_TARGET_US = 5.0
FLAT_TOLERANCE = 1.25  # warm cost at the largest size over the smallest
TRUST_TIMEOUT_SECONDS = 10.0


@dataclass
class Stack:
    """The objects `app.py`'s lifespan builds, kept at hand so the cache can be inspected."""

    database: Database
    cache: CredentialCache
    feed: RevocationFeed
    authenticator: Authenticator


@asynccontextmanager
async def running_stack(settings: Settings) -> AsyncIterator[Stack]:
    """Database, cache, revocation feed and authenticator, wired as in app.py (metrics off)."""
    database = Database(settings)
    cache = CredentialCache()
    feed = RevocationFeed(settings, database, cache)
    authenticator = Authenticator(
        settings.secret,
        database,
        cache,
        feed,
        Metrics(),
        rate_limits=RateLimits(settings),
        mcp_resource=settings.mcp_url,
    )
    await feed.start()
    try:
        await _until_cache_trusted(feed)
        yield Stack(database, cache, feed, authenticator)
    finally:
        await feed.stop()
        await database.dispose()


async def _until_cache_trusted(feed: RevocationFeed) -> None:
    """On PostgreSQL the cache is bypassed until the LISTEN connection is up."""
    deadline = time.monotonic() + TRUST_TIMEOUT_SECONDS
    while not feed.cache_is_trusted():
        if time.monotonic() > deadline:
            raise RuntimeError("the revocation feed never started listening")
        await asyncio.sleep(0.05)


@dataclass(frozen=True)
class Cost:
    """Microseconds per call: CPU of the whole process (all threads) and elapsed."""

    cpu_us: float
    wall_us: float


@dataclass(frozen=True)
class Measured:
    """Hit and miss cost at one table size, and how long filling up to it took."""

    keys: int
    hit: Cost
    miss: Cost
    fill_seconds: float
    hit_with_limits: Cost


async def _per_call(stack: Stack, headers: list[str], *, cold: bool, limited: bool = False) -> Cost:
    """Best-of-ROUNDS cost per call; `cold` empties the cache before each round.

    `limited` times `authenticate` (the check plus the rate-limit counters every request
    pays); otherwise `verify`, the credential check alone.
    """
    check = stack.authenticator.authenticate if limited else stack.authenticator.verify
    cpu_best = wall_best = float("inf")
    for _ in range(ROUNDS):
        if cold:
            stack.cache.clear()
        cpu, wall = time.process_time(), time.perf_counter()
        for header in headers:
            await check(header)
        cpu_best = min(cpu_best, time.process_time() - cpu)
        wall_best = min(wall_best, time.perf_counter() - wall)
    return Cost(cpu_best * 1e6 / len(headers), wall_best * 1e6 / len(headers))


async def _measure(settings: Settings, sizes: list[int]) -> list[Measured]:
    """Grow the table through `sizes`, measuring a fresh sample of keys at each size."""
    results = []
    async with running_stack(settings) as stack:
        account_id = await create_account(stack.database)
        present = 0
        for size in sizes:
            filled = await fill(
                stack.database,
                secret=settings.secret,
                account_id=account_id,
                count=size - present,
                real=SAMPLE,
            )
            present = size
            headers = [f"Bearer {secret}" for secret in filled.secrets]
            # Distinct keys after a clear: every call of a round misses.
            miss = await _per_call(stack, headers, cold=True)
            assert len(stack.cache) == len(headers), "the misses should have filled the cache"
            hit = await _per_call(stack, headers * HIT_REPEATS, cold=False)
            limited = await _per_call(stack, headers, cold=False, limited=True)
            results.append(Measured(size, hit, miss, filled.seconds, limited))
    return results


def _row(kind: str, m: Measured) -> list[str]:
    """One table row for one database and table size."""
    hit, miss = m.hit, m.miss
    return [
        *(kind, f"{m.keys:,}", f"{hit.cpu_us:.2f}", f"{hit.wall_us:.2f}"),
        *(f"{miss.cpu_us:.0f}", f"{miss.wall_us:.0f}", f"{m.fill_seconds:.1f}"),
        f"{m.hit_with_limits.cpu_us:.2f}",
    ]


def _targets(kind: str, measured: list[Measured]) -> list[Target]:
    """Warm cost under the target, and flat as the table grows."""
    worst = max(m.hit.cpu_us for m in measured)
    growth = measured[-1].hit.cpu_us / measured[0].hit.cpu_us
    span = f"{measured[0].keys:,} → {measured[-1].keys:,} keys"
    return [
        Target(
            f"warm ≤ {WARM_TARGET_US:g} µs CPU ({kind})", f"{worst:.2f} µs", worst <= WARM_TARGET_US
        ),
        Target(f"warm flat, {span} ({kind})", f"x{growth:.2f}", growth <= FLAT_TOLERANCE),
    ]


def run(kinds: list[str], sizes: list[int]) -> Section:
    """Hit and miss cost on each database kind at each table size."""
    section = Section(
        f"Verification: Authenticator.verify in-process, µs per call (best of {ROUNDS})",
        [
            "database",
            "keys",
            "hit CPU",
            "hit wall",
            "miss CPU",
            "miss wall",
            "fill s",
            "hit + rate limits CPU",
        ],
    )
    for kind in kinds:
        with temporary_database(kind) as settings:
            measured = asyncio.run(_measure(settings, sizes))
        section.rows.extend(_row(kind, m) for m in measured)
        section.targets.extend(_targets(kind, measured))
    return section
