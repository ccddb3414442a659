"""Pooled PostgreSQL connections that the server dropped are never handed to a request.

Sessions check a connection with one round trip when they take it from the pool (db._ping);
single reads (lists, revocation polls) check nothing and send their SELECT again instead.
"""

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select, text

from keyhouse.config import Settings
from keyhouse.db import Database
from keyhouse.kit.listing import Query


@pytest.fixture
async def own_database(settings: Settings) -> AsyncIterator[Database]:
    if settings.is_embedded:
        pytest.skip("PostgreSQL only: SQLite has no server to drop a connection")
    database = Database(settings)
    yield database
    await database.dispose()


async def test_a_read_outlives_a_dropped_connection(own_database: Database) -> None:
    backend = Query(select(func.pg_backend_pid()), {})
    pid = (await own_database.read(backend))[0][0]
    await _terminate(own_database, pid)
    assert (await own_database.read(backend))[0][0] != pid


async def test_a_transaction_never_starts_on_a_dropped_connection(own_database: Database) -> None:
    async with own_database.transaction() as session:
        pid = await session.scalar(select(func.pg_backend_pid()))
    assert pid is not None
    await _terminate(own_database, pid, by_read=True)
    async with own_database.transaction() as session:
        assert await session.scalar(select(func.pg_backend_pid())) != pid


async def _terminate(database: Database, pid: int, *, by_read: bool = False) -> None:
    """End a server process (from the other pool) and wait until it is gone."""
    end = select(func.pg_terminate_backend(pid))
    if by_read:
        await database.read(Query(end, {}))
    else:
        async with database.transaction() as session:
            await session.execute(end)
    alive = select(func.count()).select_from(text("pg_stat_activity")).where(text(f"pid = {pid}"))
    for _ in range(100):
        if (await database.read(Query(alive, {})))[0][0] == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"process {pid} is still running")
