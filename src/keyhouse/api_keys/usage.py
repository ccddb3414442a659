"""Usage of keys and connections, written behind the request in batches, never per request.

On the request path (the access log, the MCP server) a use costs a few dict operations:
- `last_used_at` with the address and user agent it came from, at most once a minute per key;
- requests per key, UTC day and outcome (`usage/`), added to the stored counts by an upsert,
  so that any number of instances can add to the same day;
- each MCP tool call of a connection (`activity/`): tool, outcome, duration, never arguments.

A background task writes everything pending in one transaction every `flush_seconds`, and
prunes activity past its retention in small batches.
"""

import asyncio
import time
import uuid
from collections import deque
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import structlog
from sqlalchemy.exc import SQLAlchemyError

from keyhouse.activity import repository as activity
from keyhouse.api_keys import repository
from keyhouse.db import Database
from keyhouse.usage import repository as usage
from keyhouse.usage.models import Outcome, outcome_of

WRITE_INTERVAL = timedelta(minutes=1)
WRITE_INTERVAL_SECONDS = WRITE_INTERVAL.total_seconds()
PRUNE_INTERVAL_SECONDS = 3600.0
PRUNE_BATCH = 1000
# Tool calls kept in memory while the database is unreachable; older ones are dropped first.
MAX_PENDING_CALLS = 100_000
MAX_USER_AGENT = 512
SECONDS_PER_DAY = 86_400
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
COLUMNS = {Outcome.OK: 0, Outcome.ERRORS: 1, Outcome.RATE_LIMITED: 2}
# The counts' column of every HTTP status, looked up by status on the request path.
COLUMN_OF_STATUS = tuple(COLUMNS[outcome_of(status)] for status in range(600))

log = structlog.get_logger(__name__)

# On the request path a key is known by its id's 128-bit integer: hashing a UUID is a Python
# call, hashing an int is not, and a request looks its key up three times.
Slot = tuple[int, int]  # key, days since the epoch (UTC)
# Where a request came from, as the ASGI server gave it: its client (address, port) and its
# headers. Kept as they are until the flush reads them: finding and decoding the user agent
# costs more than counting, and the latest request of a key is the one that counts.
Source = tuple[tuple[str, int] | None, list[tuple[bytes, bytes]]]
Used = tuple[str | None, str | None]  # the address and user agent written with `last_used_at`


class UsageRecorder:
    """Collects uses in memory; a background task writes them in one transaction."""

    def __init__(
        self, database: Database, flush_seconds: float, *, activity_retention_days: int = 90
    ) -> None:
        self._database = database
        self._flush_seconds = flush_seconds
        self._retention = timedelta(days=activity_retention_days)
        self._last_marked: dict[int, float] = {}
        self._pending: dict[int, Source] = {}
        self._counts: dict[Slot, list[int]] = {}
        self._accounts: dict[int, uuid.UUID] = {}  # of each key counted
        self._calls: deque[activity.RecordedCall] = deque(maxlen=MAX_PENDING_CALLS)
        self._task: asyncio.Task[None] | None = None
        self._next_prune = 0.0
        self.clock: Callable[[], float] = time.time  # tests move it to other days

    def count_request(
        self, account_id: uuid.UUID, key_id: uuid.UUID, status: int, source: Source
    ) -> None:
        """Count a finished request of a key (or connection) by day and outcome.

        Where it came from is kept for the key's `last_used_at`, which is written at most
        once a minute per key: the first request of that minute, and every later one until
        the write, so that the latest source is the one written.
        """
        now, key = self.clock(), key_id.int
        slot = (key, int(now // SECONDS_PER_DAY))
        counts = self._counts.get(slot)
        if counts is None:
            counts = self._counts[slot] = [0, 0, 0]
            self._accounts[key] = account_id
        counts[COLUMN_OF_STATUS[status]] += 1
        if key not in self._pending:
            last = self._last_marked.get(key)
            if last is not None and now - last < WRITE_INTERVAL_SECONDS:
                return
            self._last_marked[key] = now
        self._pending[key] = source

    def record_tool_call(
        self, account_id: uuid.UUID, connection_id: uuid.UUID, tool: str, ok: bool, seconds: float
    ) -> None:
        """Note one MCP tool call of a connection: which tool, how it ended, how long it took.

        Kept as a tuple of plain numbers: nothing the garbage collector has to follow while
        thousands wait for the next flush, and nothing to format on the request path
        (activity/repository.py makes the row at the flush). Once MAX_PENDING_CALLS wait,
        the oldest goes.
        """
        self._calls.append((account_id.int, connection_id.int, tool, ok, seconds, self.clock()))

    async def flush(self) -> None:
        """Write everything pending now; on failure it stays pending for the next flush."""
        if not (self._pending or self._counts or self._calls):
            return
        pending, counts, calls = self._pending, self._counts, self._calls
        self._pending, self._counts = {}, {}
        self._calls = deque(maxlen=MAX_PENDING_CALLS)
        try:
            async with self._database.transaction() as session:
                if pending:
                    await repository.record_use(
                        session,
                        used_at=datetime.now(UTC),
                        uses=_uses(pending),
                        interval=WRITE_INTERVAL,
                    )
                await usage.add_counts(session, self._count_rows(counts))
                await activity.add_calls(session, calls)
        except BaseException:
            self._restore(pending, counts, calls)
            raise

    def _count_rows(self, counts: dict[Slot, list[int]]) -> list[dict[str, object]]:
        return [
            {
                "account_id": self._accounts[key],
                "api_key_id": uuid.UUID(int=key),
                "day": date.fromordinal(EPOCH_ORDINAL + epoch_day),
                "ok": ok,
                "errors": errors,
                "rate_limited": rate_limited,
            }
            for (key, epoch_day), (ok, errors, rate_limited) in counts.items()
        ]

    def _restore(
        self,
        pending: dict[int, Source],
        counts: dict[Slot, list[int]],
        calls: deque[activity.RecordedCall],
    ) -> None:
        """Put a failed flush's batch back, under what came in since (which is newer)."""
        self._pending = {**pending, **self._pending}
        for slot, values in counts.items():
            merged = self._counts.setdefault(slot, [0, 0, 0])
            for column, value in enumerate(values):
                merged[column] += value
        calls.extend(self._calls)  # past MAX_PENDING_CALLS, the oldest go
        self._calls = calls

    async def prune(self) -> int:
        """Delete activity older than the retention, a small batch per transaction."""
        cutoff = datetime.now(UTC) - self._retention
        pruned = 0
        while True:
            async with self._database.transaction() as session:
                deleted = await activity.prune(session, older_than=cutoff, batch=PRUNE_BATCH)
            pruned += deleted
            if deleted < PRUNE_BATCH:
                return pruned
            await asyncio.sleep(0)  # let requests in between batches

    async def start(self) -> None:
        """Start the background writer."""
        self._task = asyncio.create_task(self._flush_forever())

    async def stop(self) -> None:
        """Stop the writer and write what is left."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.flush()

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(self._flush_seconds)
            try:
                await self.flush()
                if time.monotonic() >= self._next_prune:
                    self._next_prune = time.monotonic() + PRUNE_INTERVAL_SECONDS
                    await self.prune()
            except (SQLAlchemyError, OSError) as error:
                # The batch stays pending and goes with the next flush; never stop the writer.
                log.warning("usage_flush_failed", error=type(error).__name__)


def _uses(pending: dict[int, Source]) -> dict[uuid.UUID, Used]:
    """Each key's latest address and user agent (clipped), read off its request."""
    return {uuid.UUID(int=key): _used(*source) for key, source in pending.items()}


def _used(client: tuple[str, int] | None, headers: list[tuple[bytes, bytes]]) -> Used:
    agent = next((value for name, value in headers if name == b"user-agent"), None)
    return (
        client[0] if client else None,
        agent[:MAX_USER_AGENT].decode("latin-1") if agent is not None else None,
    )
