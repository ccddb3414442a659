"""SQL of assistant activity: insert a batch, read a connection's calls, prune old ones."""

import json
import os
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, delete, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.activity.models import ToolCall

# As the request path notes it, plain numbers only (api_keys/usage.py): account id and
# connection id as integers, tool, whether it succeeded, its seconds, and when (epoch seconds).
RecordedCall = tuple[int, int, str, bool, float, float]

# A batch goes as one JSON array of rows, each value already in its stored form, and the
# database takes the rows apart: binding thousands of rows value by value through the ORM's
# types cost more CPU than the inserts themselves, and the driver's `executemany` more than
# the JSON once the unstorable-text floor has checked every value (bench/README.md).
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
_VARIANT_DIGITS = "89ab"  # a version-7 UUID's variant digit: 0b10, then two random bits
_LOW_60_BITS = (1 << 60) - 1


async def add_calls(session: AsyncSession, calls: Sequence[RecordedCall]) -> None:
    """Insert recorded calls: one statement for the whole batch, each with a new id."""
    if not calls:
        return
    statement = text(INSERT_FROM_JSON[session.get_bind().dialect.name])
    await session.execute(statement, {"calls": _json_rows(calls)})


class _Formatted(dict[object, str]):
    """Each value formatted once per batch: a batch holds few accounts, connections and tools."""

    def __init__(self, format_value: Callable[[Any], str]) -> None:
        super().__init__()
        self._format = format_value

    def __missing__(self, value: object) -> str:
        self[value] = formatted = self._format(value)
        return formatted


def _json_rows(calls: Sequence[RecordedCall]) -> str:
    """The batch as a JSON array of rows, each value in its stored form.

    Written here rather than by `json.dumps`, which took half of the flush's Python time:
    every value is hex digits, digits, a time, or a tool name that `json.dumps` quotes.
    """
    hexes = _Formatted(lambda number: f"{number:032x}")
    quoted = _Formatted(json.dumps)
    ids = _time_ordered_ids(len(calls))
    return (
        "["
        + ",".join(
            f'["{call_id}","{hexes[account]}","{hexes[connection]}",{quoted[tool]},'
            f'"{"ok" if ok else "error"}",{round(seconds * 1000)},"{_utc_text(when)}"]'
            for call_id, (account, connection, tool, ok, seconds, when) in zip(
                ids, calls, strict=True
            )
        )
        + "]"
    )


def _time_ordered_ids(count: int) -> list[str]:
    """`count` version-7 UUIDs (RFC 9562) as 32 hex digits, in increasing order.

    The time first, so that a batch lands at the end of the primary key's index rather than
    all over it (random ids made each insert cost twice as much once the table held 200,000
    calls: bench/README.md). The batch shares its millisecond, 12 random bits and the variant,
    and its last 60 bits count up from a random start (the RFC's "monotonic random" method):
    one random draw per batch, because one per row cost a third of the flush's Python time.
    Hand-made because Python only has `uuid.uuid7()` from 3.14.
    """
    random_bits = int.from_bytes(os.urandom(10))
    prefix = (
        f"{time.time_ns() // 1_000_000:012x}7{random_bits >> 68:03x}"
        f"{_VARIANT_DIGITS[(random_bits >> 60) & 3]}"
    )
    start = random_bits & _LOW_60_BITS
    if start + count > _LOW_60_BITS:  # a count that would overflow starts from the bottom
        start = 0
    return [f"{prefix}{start + row:015x}" for row in range(count)]


@lru_cache(maxsize=4096)
def _utc_second(seconds: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds))


def _utc_text(when: float) -> str:
    """UTC time as SQLAlchemy keeps it in SQLite's text (PostgreSQL reads it with `+00`)."""
    seconds, fraction = divmod(round(when * 1_000_000), 1_000_000)
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
