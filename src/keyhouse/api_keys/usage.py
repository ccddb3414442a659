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
COLUMNS = {Outcome.OK: 0, Outcome.ERRORS: 1, Outcome.RATE_LIMITED: 2}

log = structlog.get_logger(__name__)

CountKey = tuple[uuid.UUID, uuid.UUID, int]  # account, key, days since the epoch (UTC)
# On the request path a key is known by its id's 128-bit integer: hashing a UUID is a Python
# call, hashing an int is not, and a request looks its key up three times.
Slot = tuple[int, int]  # key, days since the epoch (UTC)


class UsageRecorder:
    """Collects uses in memory; a background task writes them in one transaction."""

    def __init__(
        self, database: Database, flush_seconds: float, *, activity_retention_days: int = 90
    ) -> None:
        self._database = database
        self._flush_seconds = flush_seconds
        self._retention = timedelta(days=activity_retention_days)
        self._last_marked: dict[int, float] = {}
        self._pending: dict[int, tuple[str | None, str | None]] = {}
        self._counts: dict[Slot, list[int]] = {}
        self._accounts: dict[int, uuid.UUID] = {}  # of each key counted
        self._calls: list[activity.RecordedCall] = []
        self._task: asyncio.Task[None] | None = None
        self._next_prune = 0.0
        self.clock: Callable[[], float] = time.time  # tests move it to other days

    def count_request(self, account_id: uuid.UUID, key_id: uuid.UUID, status: int) -> bool:
        """Count a finished request of a key (or connection) by day and outcome.

        True when where it came from is wanted (`note_source`): at most once a minute per key,
        and for every request until that is written. Reading the address and the user agent
        costs more than counting, so the caller does it only then.
        """
        now, key = self.clock(), key_id.int
        slot = (key, int(now // SECONDS_PER_DAY))
        counts = self._counts.get(slot)
        if counts is None:
            counts = self._counts[slot] = [0, 0, 0]
            self._accounts[key] = account_id
        counts[COLUMNS[outcome_of(status)]] += 1
        if key in self._pending:
            return True
        last = self._last_marked.get(key)
        return last is None or now - last >= WRITE_INTERVAL_SECONDS

    def note_source(self, key_id: uuid.UUID, address: str | None, user_agent: str | None) -> None:
        """Where the key's latest request came from, written with its `last_used_at`."""
        key = key_id.int
        if key not in self._pending:
            self._last_marked[key] = self.clock()
        self._pending[key] = (address, user_agent)

    def record_tool_call(
        self,
        *,
        account_id: uuid.UUID,
        connection_id: uuid.UUID,
        tool: str,
        ok: bool,
        seconds: float,
    ) -> None:
        """Note one MCP tool call of a connection: which tool, how it ended, how long it took.

        Kept as a tuple of plain values: no id, no datetime, nothing the garbage collector
        has to follow while thousands wait for the next flush (activity/repository.py makes
        the row, in the database).
        """
        if len(self._calls) >= MAX_PENDING_CALLS:
            del self._calls[0]
        self._calls.append(
            (
                account_id.hex,
                connection_id.hex,
                tool,
                "ok" if ok else "error",
                round(seconds * 1000),
                round(self.clock() * 1_000_000),
            )
        )

    async def flush(self) -> None:
        """Write everything pending now; on failure it stays pending for the next flush."""
        if not (self._pending or self._counts or self._calls):
            return
        uses = {uuid.UUID(int=key): source for key, source in self._pending.items()}
        counts = {
            (self._accounts[key], uuid.UUID(int=key), day): values
            for (key, day), values in self._counts.items()
        }
        self._pending, self._counts = {}, {}
        calls, self._calls = self._calls, []
        try:
            async with self._database.transaction() as session:
                if uses:
                    await repository.record_use(
                        session,
                        used_at=datetime.now(UTC),
                        uses=_clipped(uses),
                        interval=WRITE_INTERVAL,
                    )
                await usage.add_counts(session, _count_rows(counts))
                await activity.add_calls(session, calls)
        except BaseException:
            self._restore(uses, counts, calls)
            raise

    def _restore(
        self,
        uses: dict[uuid.UUID, tuple[str | None, str | None]],
        counts: dict[CountKey, list[int]],
        calls: list[activity.RecordedCall],
    ) -> None:
        self._pending = {**{key.int: source for key, source in uses.items()}, **self._pending}
        for (account_id, key_id, day), values in counts.items():
            self._accounts[key_id.int] = account_id
            merged = self._counts.setdefault((key_id.int, day), [0, 0, 0])
            for column, value in enumerate(values):
                merged[column] += value
        self._calls = (calls + self._calls)[-MAX_PENDING_CALLS:]

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


def _clipped(
    uses: dict[uuid.UUID, tuple[str | None, str | None]],
) -> dict[uuid.UUID, tuple[str | None, str | None]]:
    return {
        key_id: (address, agent[:MAX_USER_AGENT] if agent else agent)
        for key_id, (address, agent) in uses.items()
    }


def _count_rows(counts: dict[CountKey, list[int]]) -> list[dict[str, object]]:
    return [
        {
            "account_id": account_id,
            "api_key_id": key_id,
            "day": date.fromordinal(date(1970, 1, 1).toordinal() + epoch_day),
            "ok": ok,
            "errors": errors,
            "rate_limited": rate_limited,
        }
        for (account_id, key_id, epoch_day), (ok, errors, rate_limited) in counts.items()
    ]
