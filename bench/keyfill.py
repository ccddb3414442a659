"""Fill the api_keys table fast: bulk inserts of rows whose hashes are computed up front."""

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from keyhouse.accounts import service as accounts
from keyhouse.api_keys.models import AccessLevel, ApiKey, KeyKind
from keyhouse.audit.service import COMMAND_LINE
from keyhouse.db import Database
from keyhouse.kit import tokens

CHUNK = 10_000


@dataclass(frozen=True)
class Filled:
    """Keys added by one `fill`: the secrets we can present, and how long the insert took."""

    secrets: list[str]
    seconds: float


async def create_account(database: Database) -> uuid.UUID:
    """A new account (through the real service) to own the benchmark's keys."""
    async with database.transaction() as session:
        account, _admin = await accounts.create(
            session,
            COMMAND_LINE,
            name=f"Bench {uuid.uuid4().hex[:8]}",
            admin_email=f"bench-{uuid.uuid4().hex[:8]}@example.com",
            admin_password=None,
        )
    return account.id


def _row(
    secret: bytes, account_id: uuid.UUID, key_id: uuid.UUID, token: str, now: datetime
) -> dict[str, Any]:
    """The column values of one key."""
    return {
        "id": key_id,
        "account_id": account_id,
        "name": "bench",
        "kind": KeyKind.API_KEY,
        "access_level": AccessLevel.READ_ONLY,
        "secret_hash": tokens.keyed_hash(secret, token),
        "hint": tokens.hint(token),
        "created_by_user_id": None,
        "created_at": now,
    }


def _chunk(
    secret: bytes, account_id: uuid.UUID, indexes: range, every: int, known: list[str]
) -> list[dict[str, Any]]:
    """Rows for `indexes`; every `every`-th gets a real token, remembered in `known`."""
    now = datetime.now(UTC)
    rows = []
    for index in indexes:
        key_id = uuid.uuid4()
        if index % every == 0:
            token = tokens.generate(tokens.TokenKind.API_KEY)
            known.append(token)
        else:
            # Never presented, so any unique string will do; hashing keeps the index realistic.
            token = f"kh_key_filler{key_id.hex}"
        rows.append(_row(secret, account_id, key_id, token, now))
    return rows


async def _insert(connection: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """One chunk: COPY on PostgreSQL (about twice as fast), a Core executemany elsewhere."""
    if connection.dialect.name != "postgresql":
        await connection.execute(insert(ApiKey), rows)
        return
    columns = list(rows[0])
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None, "an open connection has a driver connection"
    records = [list(row.values()) for row in rows]
    await driver.copy_records_to_table(ApiKey.__tablename__, records=records, columns=columns)


async def fill(
    database: Database, *, secret: bytes, account_id: uuid.UUID, count: int, real: int
) -> Filled:
    """Insert `count` keys; `real` of them, spread evenly, have secrets we return."""
    every = max(count // real, 1)
    known: list[str] = []
    started = time.perf_counter()
    for start in range(0, count, CHUNK):
        rows = _chunk(secret, account_id, range(start, min(start + CHUNK, count)), every, known)
        async with database.engine.begin() as connection:
            await _insert(connection, rows)
    return Filled(secrets=known[:real], seconds=time.perf_counter() - started)
