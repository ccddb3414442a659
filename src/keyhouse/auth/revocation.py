"""Revocation feed: every instance stops accepting a revoked credential before the revoke returns.

A service marks keys with `announce(session, key_ids)` inside its transaction. When the
transaction commits, this process forgets those keys at once. Other processes learn it:
- on PostgreSQL the transaction numbers itself on the revocation clock and sends `NOTIFY` (both
  only if it commits); after the commit, `Database.transaction()` waits until every instance
  with a live lease has acknowledged that number, or until any lease that could still be live
  has run out (`RevocationListener`, docs/revocation.md);
- on the embedded SQLite default (one server process, plus CLI commands) through a counter in
  a file next to the database, mapped into memory, that the server reads before trusting its
  cache (`RevocationSignal`).
"""

import asyncio
import time
import uuid
from pathlib import Path

import structlog
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from keyhouse.auth.credential_cache import CredentialCache
from keyhouse.auth.revocation_listener import CHANNEL, RevocationListener, payload
from keyhouse.auth.revocation_signal import RevocationSignal
from keyhouse.config import Settings
from keyhouse.db import Database
from keyhouse.instances import repository
from keyhouse.metrics.recorder import Metrics

PENDING = "keyhouse.revoked_key_ids"
NUMBER = "keyhouse.revocation_seq"
# Acknowledgements take a notification and an UPDATE: poll soon, then back off.
FIRST_POLL_SECONDS = 0.001
MAX_POLL_SECONDS = 0.01

log = structlog.get_logger(__name__)


async def announce(session: AsyncSession, key_ids: set[uuid.UUID]) -> None:
    """Mark keys whose credentials stop being valid when this transaction commits."""
    session.info.setdefault(PENDING, set()).update(key_ids)


class RevocationFeed:
    """Delivers committed revocations to `cache` and decides whether the cache is trusted."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        cache: CredentialCache,
        metrics: Metrics | None = None,
    ):
        self.instance_id = uuid.uuid4()
        self._metrics = metrics or Metrics()
        self._database = database
        self._cache = cache
        self._lease = settings.revocation_lease_seconds
        self._signal = _signal(settings)
        self._signal_seen = self._signal.read() if self._signal else 0
        self._listener = RevocationListener(settings, cache, self.instance_id)
        self._task: asyncio.Task[None] | None = None
        session_class = database.session_class
        event.listen(session_class, "before_commit", self._before_commit)
        event.listen(session_class, "after_commit", self._after_commit)
        event.listen(session_class, "after_rollback", self._after_rollback)
        database.after_commit.append(self._wait_for_instances)

    def cache_is_trusted(self) -> bool:
        """True when no revocation can have been missed since the cache was filled."""
        if self._signal is None:
            return self._listener.trusted()
        count = self._signal.read()
        if count != self._signal_seen:
            self._signal_seen = count
            self._cache.clear()
        return True

    async def start(self) -> None:
        """Start listening and holding a lease (PostgreSQL only)."""
        if self._signal is None:
            self._task = asyncio.create_task(self._listener.run_forever())

    async def stop(self) -> None:
        """Stop listening and give the lease up, so revokers no longer wait for this instance."""
        if self._task is None:
            return
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        try:
            async with self._database.transaction() as session:
                await repository.leave(session, instance_id=self.instance_id)
        except (SQLAlchemyError, OSError) as error:
            log.warning("instance_leave_failed", error=type(error).__name__)

    def _before_commit(self, session: Session) -> None:
        key_ids: set[uuid.UUID] | None = session.info.get(PENDING)
        if not key_ids or self._signal is not None:
            return
        # Flush first: the clock row stays locked from here to the commit, so keep that short.
        session.flush()
        seq = repository.advance_clock(session)
        repository.notify(session, channel=CHANNEL, payload=payload(seq, key_ids))
        session.info[NUMBER] = seq

    def _after_commit(self, session: Session) -> None:
        key_ids: set[uuid.UUID] = session.info.pop(PENDING, set())
        if not key_ids:
            return
        self._cache.forget(key_ids)
        self._metrics.revoked(len(key_ids))
        if self._signal is not None and self._signal.bump() == self._signal_seen:
            self._signal_seen += 1  # no other process revoked since this one last looked

    def _after_rollback(self, session: Session) -> None:
        session.info.pop(PENDING, None)
        session.info.pop(NUMBER, None)

    async def _wait_for_instances(self, session: AsyncSession) -> None:
        """After a commit: return once no other instance can still accept what it revoked."""
        seq: int | None = session.info.pop(NUMBER, None)
        if seq is None:
            return
        # Past the deadline every lease renewed before the commit has run out, and no lease
        # renewed after it was granted without acknowledging `seq`: waiting longer is useless.
        started = time.monotonic()
        deadline = started + self._lease
        pause = FIRST_POLL_SECONDS
        while (left := deadline - time.monotonic()) > 0:
            if await self._all_acknowledged(seq):
                self._metrics.revoke_waited(time.monotonic() - started, acknowledged=True)
                return
            await asyncio.sleep(min(pause, left))
            pause = min(pause * 2, MAX_POLL_SECONDS)
        self._metrics.revoke_waited(time.monotonic() - started, acknowledged=False)
        log.warning("revocation_waited_for_leases", seq=seq)

    async def _all_acknowledged(self, seq: int) -> bool:
        try:
            query = repository.lagging_query(seq=seq, besides=self.instance_id)
            lagging: int = (await self._database.read(query))[0][0]
        except (SQLAlchemyError, OSError) as error:
            # The deadline alone keeps the promise; the poll only makes it sooner.
            log.warning("revocation_poll_failed", error=type(error).__name__)
            return False
        return lagging == 0


def _signal(settings: Settings) -> RevocationSignal | None:
    if not settings.is_embedded:
        return None
    database = settings.async_database_url.split("///", 1)[-1]
    return RevocationSignal(Path(f"{database}.revocations"))
