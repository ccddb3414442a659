"""The three HTTP paths with big tables: 1,000,000 API keys and 100,000 MCP connections.

The filler rows are there to make the tables and their indexes big; their secrets are never
presented, so their hashes are random and their tokens unusable.
"""

import asyncio
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

import databases
import keyfill
import workers
from keyhouse.api_keys.models import AccessLevel, ApiKey, KeyKind
from keyhouse.config import Settings
from keyhouse.connections.models import Connection
from keyhouse.db import Database
from keyhouse.oauth.models import ConnectionToken, TokenKind
from report import Section

KEYS, CONNECTIONS = 1_000_000, 100_000
CHUNK = 10_000


def _connection_rows(
    account_id: uuid.UUID, user_id: uuid.UUID, now: datetime
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """One connection: its backing key, the connection, and one access token."""
    key_id, connection_id = uuid.uuid4(), uuid.uuid4()
    common = {"account_id": account_id, "created_at": now}
    key = {
        **common,
        "id": key_id,
        "name": "bench assistant",
        "kind": KeyKind.MCP_CONNECTION.value,
        "access_level": AccessLevel.READ_ONLY.value,
        "secret_hash": secrets.token_hex(32),
        "hint": "filler",
        "created_by_user_id": user_id,
    }
    connection = {
        **common,
        "id": connection_id,
        "user_id": user_id,
        "api_key_id": key_id,
        "client_id": f"filler-{connection_id.hex}",
        "client_name": "bench assistant",
        "redirect_host": "127.0.0.1",
        "granted_access": AccessLevel.READ_ONLY.value,
    }
    token = {
        "id": uuid.uuid4(),
        "connection_id": connection_id,
        "kind": TokenKind.ACCESS.value,
        "secret_hash": secrets.token_hex(32),
        "scopes": "read",
        "resource": "http://127.0.0.1/mcp",
        "created_at": now,
        "expires_at": now + timedelta(hours=1),
    }
    return key, connection, token


async def _copy(driver: asyncpg.Connection, table: str, rows: list[dict[str, Any]]) -> None:
    """COPY `rows` (all with the same keys) into `table`."""
    records = [list(row.values()) for row in rows]
    await driver.copy_records_to_table(table, records=records, columns=list(rows[0]))


async def _fill_connections(url: str, account_id: uuid.UUID, count: int) -> None:
    """`count` connections of the account's first user, COPY'd in chunks, parents first."""
    driver = await asyncpg.connect(url)
    try:
        user_id = await driver.fetchval("SELECT id FROM users WHERE account_id = $1", account_id)
        for start in range(0, count, CHUNK):
            now = datetime.now(UTC)
            size = min(CHUNK, count - start)
            chunk = [_connection_rows(account_id, user_id, now) for _ in range(size)]
            for table, rows in zip(
                (ApiKey.__tablename__, Connection.__tablename__, ConnectionToken.__tablename__),
                zip(*chunk, strict=True),
                strict=True,
            ):
                await _copy(driver, table, list(rows))
        await driver.execute("ANALYZE")  # plan against the big tables, as a live server would
    finally:
        await driver.close()


async def _fill(settings: Settings, keys: int, connections: int) -> None:
    """The filler keys (keyfill's COPY path) and connections, in their own account."""
    database = Database(settings)
    try:
        account_id = await keyfill.create_account(database)
        await keyfill.fill(
            database, secret=settings.secret, account_id=account_id, count=keys, real=1
        )
    finally:
        await database.dispose()
    await _fill_connections(settings.database_url, account_id, connections)


def run(seconds: int, warmup: int, keys: int = KEYS, connections: int = CONNECTIONS) -> Section:
    """Fill a fresh PostgreSQL database, then measure the three paths per worker count."""
    section = Section(
        f"Big tables on PostgreSQL: {keys:,} API keys, {connections:,} MCP connections",
        workers.COLUMNS,
    )
    with databases.temporary_database("postgresql") as settings:
        started = time.perf_counter()
        asyncio.run(_fill(settings, keys, connections))
        filled = time.perf_counter() - started
        measured = workers.measure(settings, section, seconds, warmup)
    section.notes.append(f"fill took {filled:.0f} s (COPY in chunks of {CHUNK:,})")
    section.notes += workers.scaling_notes(measured)
    return section
