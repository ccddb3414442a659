"""/api/v1/audit-events: the audit log over JSON, for a signed-in admin only."""

from typing import Annotated

from fastapi import APIRouter, Query

from keyhouse.audit import service
from keyhouse.audit.schemas import AuditEventOut
from keyhouse.auth.dependencies import AdminUser
from keyhouse.db import DbSession
from keyhouse.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page

router = APIRouter(prefix="/api/v1/audit-events", tags=["audit log (admins, signed in)"])


@router.get("", summary="Read the audit log")
async def list_audit_events(
    db: DbSession,
    who: AdminUser,
    action: Annotated[str | None, Query(max_length=64, examples=["api_key.revoked"])] = None,
    actor: Annotated[str | None, Query(max_length=320)] = None,
    cursor: Annotated[str | None, Query(max_length=200, description="From `next_cursor`.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Page[AuditEventOut]:
    """Newest first; `next_cursor` continues with older events."""
    page = await service.list_events(
        db, account_id=who.account_id, action=action, actor=actor, cursor=cursor, limit=limit
    )
    events = [AuditEventOut.model_validate(event) for event in page.events]
    return Page[AuditEventOut](data=events, next_cursor=page.next_cursor)
