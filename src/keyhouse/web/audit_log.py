"""Settings → Audit log: who changed access and when, filtered by action and actor."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from keyhouse.audit import service as audit
from keyhouse.auth.dependencies import AdminUser
from keyhouse.db import DbSession
from keyhouse.web.templates import render

router = APIRouter(include_in_schema=False, tags=["pages"])

PAGE_SIZE = 50


@router.get("/settings/audit-log")
async def audit_log(
    request: Request,
    db: DbSession,
    who: AdminUser,
    action: Annotated[str, Query(max_length=64)] = "",
    actor: Annotated[str, Query(max_length=320)] = "",
    cursor: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """The newest events first, a page at a time."""
    page = await audit.list_events(
        db,
        account_id=who.account_id,
        action=action or None,
        actor=actor or None,
        cursor=cursor or None,
        limit=PAGE_SIZE,
    )
    actions, actors = await audit.filter_choices(db, account_id=who.account_id)
    context = {
        "events": page.events,
        "next_cursor": page.next_cursor,
        "first_page": not cursor,
        "actions": actions,
        "actors": actors,
        "filters": {"action": action, "actor": actor},
    }
    return await render(request, "settings/audit_log.html", context)
