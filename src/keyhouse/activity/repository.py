"""SQL of assistant activity: insert a batch, read a connection's calls, prune old ones."""

import json
import os
import time
import uuid
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache

from sqlalchemy import and_, delete, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.activity.models import ToolCall

# account id (hex), connection id (hex), tool, outcome, duration in ms, when in µs since the epoch
RecordedCall = tuple[str, str, str, str, int, int]

# A batch goes as one JSON array of rows, each value already in its stored form, and the
# database takes the rows apart: binding thousands of rows value by value through the ORM's
# types cost more CPU than the inserts themselves.
INSERT_FROM_JSON = {
    "sqlite": """
        INSERT INTO mcp_tool_calls
            (id, account_id, connection_id, tool, outcome, duration_ms, called_at)
        SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'),
               json_extract(value, '$[2]'), json_extract(value, '$[3]'),
               json_extract(value, '$[4]'), json_extract(value, '$[5]'),
               json_extract(value, '$[6]')
        FROM json_each(:calls)
    """,
    "postgresql": """
        INSERT INTO mcp_tool_calls
            (id, account_id, connection_id, tool, outcome, duration_ms, called_at)
        SELECT (c->>0)::uuid, (c->>1)::uuid, (c->>2)::uuid, c->>3, c->>4, (c->>5)::integer,
               (c->>6 || '+00')::timestamptz
        FROM json_array_elements(CAST(:calls AS json)) AS c
    """,
}
# The 76 random bits of a version-7 UUID (RFC 9562) below its 48-bit time and 4-bit version,
# with the two variant bits among them set to 0b10.
_V7_RANDOM = ((1 << 76) - 1) & ~(0b11 << 62)
_V7_VERSION_AND_VARIANT = (7 << 76) | (0b10 << 62)


async def add_calls(session: AsyncSession, calls: Sequence[RecordedCall]) -> None:
    """Insert recorded calls: one statement for the whole batch, each with a new id."""
    if not calls:
        return
    rows = [
        (call_id, account, connection, tool, outcome, duration_ms, _utc_text(when))
        for call_id, (account, connection, tool, outcome, duration_ms, when) in zip(
            _time_ordered_ids(len(calls)), calls, strict=True
        )
    ]
    statement = text(INSERT_FROM_JSON[session.get_bind().dialect.name])
    await session.execute(statement, {"calls": json.dumps(rows)})


def _time_ordered_ids(count: int) -> list[str]:
    """Version-7 UUIDs as 32 hex digits: the time first, so that a batch lands at the end of
    the primary key's index rather than all over it (random ids made each insert cost twice
    as much once the table held 200,000 calls: bench/README.md). Hand-made because Python
    only has `uuid.uuid7()` from 3.14, and from one read of the system's randomness because
    one call per row costs more than the row's insert."""
    prefix = (time.time_ns() // 1_000_000) << 80 | _V7_VERSION_AND_VARIANT
    randomness = os.urandom(10 * count)
    return [
        f"{prefix | int.from_bytes(randomness[start : start + 10]) & _V7_RANDOM:032x}"
        for start in range(0, 10 * count, 10)
    ]


@lru_cache(maxsize=4096)
def _utc_second(seconds: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds))


def _utc_text(microseconds: int) -> str:
    """UTC time as SQLAlchemy keeps it in SQLite's text (PostgreSQL reads it with `+00`)."""
    seconds, fraction = divmod(microseconds, 1_000_000)
    return f"{_utc_second(seconds)}.{fraction:06d}"


async def calls_of_connection(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    connection_id: uuid.UUID,
    limit: int,
    before: tuple[datetime, uuid.UUID] | None = None,
) -> Sequence[ToolCall]:
    """The connection's calls, newest first, starting after `before`."""
    query = select(ToolCall).where(
        ToolCall.account_id == account_id, ToolCall.connection_id == connection_id
    )
    if before is not None:
        moment, last_id = before
        query = query.where(
            or_(
                ToolCall.called_at < moment,
                and_(ToolCall.called_at == moment, ToolCall.id < last_id),
            )
        )
    query = query.order_by(ToolCall.called_at.desc(), ToolCall.id.desc()).limit(limit)
    return (await session.scalars(query)).all()


async def prune(session: AsyncSession, *, older_than: datetime, batch: int) -> int:
    """Delete at most `batch` calls older than `older_than`; how many went.

    A bounded batch per statement (and per transaction) keeps every lock short on a
    table that assistants keep writing to.
    """
    oldest = select(ToolCall.id).where(ToolCall.called_at < older_than).limit(batch)
    result = await session.execute(
        delete(ToolCall)
        .where(ToolCall.id.in_(oldest.scalar_subquery()))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
