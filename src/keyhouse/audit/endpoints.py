"""/api/v1/audit-events: the audit log over JSON, for a signed-in admin only."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime

from keyhouse.audit import service
from keyhouse.audit.export import ExportFormat, check_range, export_events
from keyhouse.audit.schemas import AuditEventOut
from keyhouse.auth.dependencies import AdminUser
from keyhouse.db import Database, Reads
from keyhouse.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page

router = APIRouter(prefix="/api/v1/audit-events", tags=["audit log (admins, signed in)"])


@router.get("", response_model=Page[AuditEventOut], summary="Read the audit log")
async def list_audit_events(
    db: Reads,
    who: AdminUser,
    action: Annotated[str | None, Query(max_length=64, examples=["api_key.revoked"])] = None,
    actor: Annotated[str | None, Query(max_length=320)] = None,
    cursor: Annotated[str | None, Query(max_length=200, description="From `next_cursor`.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Response:
    """Newest first; `next_cursor` continues with older events."""
    query = service.page_query(
        account_id=who.account_id, action=action, actor=actor, cursor=cursor, limit=limit
    )
    rows = await db.read(query)
    return service.LISTING.response(rows, limit=limit, cursor_fields=("occurred_at", "id"))


@router.get(
    "/export",
    summary="Export the audit log of a time range (streamed)",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/csv": {}, "application/jsonl": {}},
            "description": "Every event of [since, until), oldest first",
        }
    },
)
async def export_audit_events(
    request: Request,
    who: AdminUser,
    since: Annotated[AwareDatetime, Query(examples=["2026-11-01T00:00:00Z"])],
    until: Annotated[AwareDatetime | None, Query(description="Default: now.")] = None,
    export_format: Annotated[ExportFormat, Query(alias="format")] = ExportFormat.JSONL,
) -> StreamingResponse:
    """Every event from `since` (included) to `until` (excluded), for a SIEM to load."""
    end = until or datetime.now(UTC)
    check_range(since, end)
    database: Database = request.app.state.database

    async def body() -> AsyncIterator[str]:
        # The request's session is closed before a streamed body is sent: use our own.
        async with database.sessions() as session:
            async for chunk in export_events(
                session,
                account_id=who.account_id,
                since=since,
                until=end,
                export_format=export_format,
            ):
                yield chunk

    filename = f"audit-log-{since:%Y%m%d}-{end:%Y%m%d}.{export_format.value}"
    return StreamingResponse(
        body(),
        media_type=export_format.media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
