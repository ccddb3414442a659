"""Detail pages of a key and of a connection: usage chart, last use, and an assistant's calls."""

import uuid

from fastapi import APIRouter, Request, Response

from keyhouse.activity import service as activity
from keyhouse.api_keys import service as api_keys
from keyhouse.auth.dependencies import AdminUser, SignedInUser
from keyhouse.connections import service as connections
from keyhouse.db import DbSession
from keyhouse.usage import service as usage
from keyhouse.users import service as users
from keyhouse.web.templates import render
from keyhouse.web.usage_chart import bar_chart

router = APIRouter(include_in_schema=False, tags=["pages"])

CHART_DAYS = 30
RECENT_CALLS = 25


@router.get("/settings/security/api-keys/{key_id}")
async def api_key_detail(
    request: Request, db: DbSession, who: AdminUser, key_id: uuid.UUID
) -> Response:
    """A key: what it is, 30 days of requests, and where it was last used from."""
    key = await api_keys.get_api_key(db, account_id=who.account_id, key_id=key_id)
    used = await usage.of_key(db, key, days=CHART_DAYS)
    creator = None
    if key.created_by_user_id is not None:
        members = await users.list_members(db, account_id=who.account_id)
        creator = next((m.email for m in members if m.id == key.created_by_user_id), None)
    context = {"key": key, "usage": used, "chart": bar_chart(used.data), "creator": creator}
    return await render(request, "settings/api_key_detail.html", context)


@router.get("/settings/security/connections/{connection_id}")
async def connection_detail(
    request: Request, db: DbSession, who: SignedInUser, connection_id: uuid.UUID
) -> Response:
    """A connection (admins: any of the account; members: their own), its usage and tool calls."""
    view = await connections.get_visible_view(db, who, connection_id=connection_id)
    used = await usage.of_key(db, view.key, days=CHART_DAYS)
    calls = await activity.tool_calls(db, who, connection_id=connection_id, limit=RECENT_CALLS)
    context = {"view": view, "usage": used, "chart": bar_chart(used.data), "calls": calls.data}
    return await render(request, "settings/connection_detail.html", context)
