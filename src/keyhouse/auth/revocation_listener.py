"""An instance's side of strict revocation on PostgreSQL: LISTEN, apply, acknowledge, renew.

One asyncpg connection (application_name `keyhouse-revocations:<pid>`) listens for revocations,
acknowledges each one it has applied and renews the instance's lease. The cache is trusted
only while that connection is up and the lease, measured locally from when its renewal was
*sent*, has not run out: an instance that cannot acknowledge stops trusting its cache before
a revoker stops waiting for it (see docs/revocation.md).
"""

import asyncio
import os
import time
import uuid
from contextlib import suppress
from typing import Any

import asyncpg
import structlog

from keyhouse.auth.credential_cache import CredentialCache
from keyhouse.config import Settings
from keyhouse.instances import repository

CHANNEL = "keyhouse_credentials"
APPLICATION_NAME = "keyhouse-revocations"
EVERY_KEY = "*"
RECONNECT_SECONDS = 1.0

log = structlog.get_logger(__name__)


def payload(seq: int, key_ids: set[uuid.UUID]) -> str:
    """`seq:id,id,…`, or `seq:*` (forget everything) past NOTIFY's 8000-byte limit."""
    ids = ",".join(str(key_id) for key_id in sorted(key_ids))
    return f"{seq}:{ids if len(ids) < 7000 else EVERY_KEY}"


class RevocationListener:
    """Applies other instances' revocations to `cache` and keeps this instance's lease."""

    def __init__(self, settings: Settings, cache: CredentialCache, instance_id: uuid.UUID):
        self._dsn = settings.async_database_url.replace("postgresql+asyncpg://", "postgresql://")
        self._cache = cache
        self._id = instance_id
        self._lease = settings.revocation_lease_seconds
        # Renew four times per lease; give up trust an eighth of a lease early (clock drift).
        self._renew_every = self._lease / 4
        self._margin = self._lease / 8
        self._applied = 0
        self._listening = False
        self._trusted_until = 0.0
        self._wake = asyncio.Event()

    def trusted(self) -> bool:
        """True while the listener is up and the lease it last renewed runs."""
        return self._listening and time.monotonic() < self._trusted_until

    async def run_forever(self) -> None:
        """Listen, reconnecting after a failure; the cache is untrusted in between."""
        while True:
            try:
                await self._run_once()
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                log.warning("revocation_listener_down", error=type(error).__name__)
            self._listening = False
            self._cache.clear()
            await asyncio.sleep(RECONNECT_SECONDS)

    async def _run_once(self) -> None:
        connection = await asyncpg.connect(
            self._dsn,
            timeout=5,
            # Operators (and tests) find one instance's listener by its process id.
            server_settings={"application_name": f"{APPLICATION_NAME}:{os.getpid()}"},
        )
        closed = asyncio.Event()

        def on_close(_conn: Any) -> None:
            self._listening = False
            closed.set()
            self._wake.set()

        connection.add_termination_listener(on_close)
        try:
            await self._join(connection)
            while not closed.is_set():
                await self._renew(connection)
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._renew_every)
                self._wake.clear()
        finally:
            self._listening = False
            if not connection.is_closed():
                connection.terminate()

    async def _join(self, connection: asyncpg.Connection) -> None:
        await connection.add_listener(CHANNEL, self._on_notify)
        await connection.execute(repository.FORGET_DEPARTED)
        await connection.execute(repository.JOIN, self._id)
        # Read the clock, then clear: whatever was revoked up to `seq` cannot be cached any more,
        # and everything after it arrives as a notification.
        seq: int = await connection.fetchval(repository.CURRENT_SEQ)
        self._cache.clear()
        self._applied = max(self._applied, seq)
        self._listening = True

    async def _renew(self, connection: asyncpg.Connection) -> None:
        applied, sent = self._applied, time.monotonic()
        renewed = await connection.fetchval(
            repository.RENEW_LEASE, self._id, applied, self._lease, timeout=self._lease
        )
        if renewed is None:  # our row was cleaned up after a long partition
            await connection.execute(repository.JOIN, self._id)
        elif renewed:
            self._trusted_until = sent + self._lease - self._margin

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, message: str) -> None:
        seq, _, key_ids = message.partition(":")
        if key_ids == EVERY_KEY:
            self._cache.clear()
        else:
            self._cache.forget({uuid.UUID(key_id) for key_id in key_ids.split(",") if key_id})
        self._applied = max(self._applied, int(seq))
        self._wake.set()
