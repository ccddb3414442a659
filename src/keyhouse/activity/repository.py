"""SQL of assistant activity: insert a batch, read a connection's calls, prune old ones."""

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, delete, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.activity.models import ToolCall


async def add_calls(session: AsyncSession, rows: Sequence[dict[str, object]]) -> None:
    """Insert recorded calls: one Core executemany for the batch (no ORM bookkeeping per row)."""
    if rows:
        await session.execute(insert(ToolCall.__table__), list(rows))  # type: ignore[arg-type]


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
