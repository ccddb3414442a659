"""Revocation feed: tells this process's cache, and every other process, that keys changed.

A service marks keys with `announce(session, key_ids)` inside its transaction. When the
transaction commits, this process forgets those keys at once. Other processes learn it:
- on PostgreSQL through `NOTIFY` (sent by the same transaction, so only if it commits), received
  by a dedicated `LISTEN` connection; while that connection is down the cache is not trusted
  and every verification goes to the database;
- on the embedded SQLite default (one server process, plus CLI commands) through a signal file
  next to the database whose change time the server checks before trusting its cache.
"""

import asyncio
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import structlog
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from keyhouse.auth.credential_cache import CredentialCache
from keyhouse.config import Settings

CHANNEL = "keyhouse_credentials"
PENDING = "keyhouse.revoked_key_ids"
RECONNECT_SECONDS = 1.0

log = structlog.get_logger(__name__)


async def announce(session: AsyncSession, key_ids: set[uuid.UUID]) -> None:
    """Mark keys whose credentials stop being valid when this transaction commits."""
    session.info.setdefault(PENDING, set()).update(key_ids)
    if session.get_bind().dialect.name == "postgresql":
        payload = ",".join(str(key_id) for key_id in sorted(key_ids))
        await session.execute(
            text("SELECT pg_notify(:channel, :payload)"),
            {
                "channel": CHANNEL,
                "payload": payload,
            },
        )


class RevocationFeed:
    """Delivers committed revocations to `cache` and decides whether the cache is trusted."""

    def __init__(self, settings: Settings, session_class: type[Session], cache: CredentialCache):
        self._settings = settings
        self._cache = cache
        self._signal = _signal_path(settings)
        self._signal_seen = self._signal_stamp()
        self._listening = False
        self._task: asyncio.Task[None] | None = None
        event.listen(session_class, "after_commit", self._after_commit)
        event.listen(session_class, "after_rollback", self._after_rollback)

    def cache_is_trusted(self) -> bool:
        """True when no revocation can have been missed since the cache was filled."""
        if self._signal is None:
            return self._listening
        stamp = self._signal_stamp()
        if stamp != self._signal_seen:
            self._signal_seen = stamp
            self._cache.clear()
        return True

    async def start(self) -> None:
        """Start listening for other processes' revocations (PostgreSQL only)."""
        if self._signal is None:
            self._task = asyncio.create_task(self._listen_forever())

    async def stop(self) -> None:
        """Stop listening."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def _after_commit(self, session: Session) -> None:
        key_ids: set[uuid.UUID] = session.info.pop(PENDING, set())
        if not key_ids:
            return
        self._cache.forget(key_ids)
        if self._signal is not None:
            self._signal.parent.mkdir(parents=True, exist_ok=True)
            self._signal.touch()
            self._signal_seen = self._signal_stamp()

    def _after_rollback(self, session: Session) -> None:
        session.info.pop(PENDING, None)

    def _signal_stamp(self) -> int:
        try:
            return self._signal.stat().st_mtime_ns if self._signal else 0
        except FileNotFoundError:
            return 0

    async def _listen_forever(self) -> None:
        while True:
            try:
                await self._listen_once()
            except (OSError, asyncpg.PostgresError) as error:
                log.warning("revocation_listener_down", error=type(error).__name__)
            self._listening = False
            self._cache.clear()
            await asyncio.sleep(RECONNECT_SECONDS)

    async def _listen_once(self) -> None:
        dsn = self._settings.async_database_url.replace("postgresql+asyncpg://", "postgresql://")
        connection = await asyncpg.connect(dsn)
        closed = asyncio.Event()
        connection.add_termination_listener(lambda _conn: closed.set())
        try:
            await connection.add_listener(CHANNEL, self._on_notify)
            # Anything revoked before LISTEN took effect may be cached: start clean.
            self._cache.clear()
            self._listening = True
            await closed.wait()
        finally:
            self._listening = False
            if not connection.is_closed():
                await connection.close()

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        self._cache.forget({uuid.UUID(key_id) for key_id in payload.split(",") if key_id})


def _signal_path(settings: Settings) -> Path | None:
    if not settings.is_embedded:
        return None
    database = settings.async_database_url.split("///", 1)[-1]
    return Path(f"{database}.revocations")
