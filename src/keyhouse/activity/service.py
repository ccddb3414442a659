"""A connection's recent tool calls, for an admin or the connection's own user."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.activity import repository
from keyhouse.activity.schemas import ToolCallOut
from keyhouse.auth.principal import Principal
from keyhouse.connections import service as connections
from keyhouse.kit.pagination import Page, decode_cursor, encode_cursor


async def tool_calls(
    session: AsyncSession,
    who: Principal,
    *,
    connection_id: uuid.UUID,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[ToolCallOut]:
    """One page of the connection's calls, newest first; `next_cursor` continues with older."""
    view = await connections.get_visible_view(session, who, connection_id=connection_id)
    rows = await repository.calls_of_connection(
        session,
        account_id=view.connection.account_id,
        connection_id=view.connection.id,
        limit=limit + 1,
        before=decode_cursor(cursor) if cursor else None,
    )
    calls = rows[:limit]
    more = len(rows) > limit
    next_cursor = encode_cursor(calls[-1].called_at, calls[-1].id) if more else None
    data = [ToolCallOut.model_validate(call) for call in calls]
    return Page[ToolCallOut](data=data, next_cursor=next_cursor)
