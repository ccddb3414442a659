"""/api/v1/connections/{id}/activity: what an assistant did through its connection."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from keyhouse.activity import service
from keyhouse.activity.schemas import ToolCallOut
from keyhouse.auth.dependencies import SignedInUser
from keyhouse.db import DbSession
from keyhouse.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page

router = APIRouter(prefix="/api/v1/connections", tags=["connections (signed in)"])


@router.get("/{connection_id}/activity", summary="A connection's MCP tool calls")
async def connection_activity(
    connection_id: uuid.UUID,
    db: DbSession,
    who: SignedInUser,
    cursor: Annotated[str | None, Query(max_length=200, description="From `next_cursor`.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Page[ToolCallOut]:
    """Newest first: tool, time, outcome and duration; never the arguments or the result."""
    return await service.tool_calls(
        db, who, connection_id=connection_id, cursor=cursor, limit=limit
    )
