"""`last_used_at`, written behind the request: batched, at most once a minute per key."""

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy.exc import SQLAlchemyError

from keyhouse.api_keys import repository
from keyhouse.db import Database

WRITE_INTERVAL = timedelta(minutes=1)

log = structlog.get_logger(__name__)


class UsageRecorder:
    """Collects key uses in memory; a background task writes them in one statement."""

    def __init__(self, database: Database, flush_seconds: float) -> None:
        self._database = database
        self._flush_seconds = flush_seconds
        self._last_marked: dict[uuid.UUID, float] = {}
        self._pending: set[uuid.UUID] = set()
        self._task: asyncio.Task[None] | None = None

    def touch(self, key_id: uuid.UUID) -> None:
        """Note a use; costs a dict lookup on the request path."""
        now = time.monotonic()
        last = self._last_marked.get(key_id)
        if last is not None and now - last < WRITE_INTERVAL.total_seconds():
            return
        self._last_marked[key_id] = now
        self._pending.add(key_id)

    async def flush(self) -> None:
        """Write every pending use now."""
        if not self._pending:
            return
        key_ids, self._pending = list(self._pending), set()
        async with self._database.transaction() as session:
            await repository.record_use(
                session, used_at=datetime.now(UTC), key_ids=key_ids, interval=WRITE_INTERVAL
            )

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
            except (SQLAlchemyError, OSError) as error:
                # A lost batch only delays last_used_at; never let it stop the writer.
                log.warning("last_used_flush_failed", error=type(error).__name__)
