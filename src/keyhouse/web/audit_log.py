"""Settings → Audit log: who changed access and when, in words; by action, actor and dates."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from keyhouse.audit import service as audit
from keyhouse.auth.dependencies import AdminUser
from keyhouse.db import DbSession
from keyhouse.errors import InvalidInput
from keyhouse.users import service as users
from keyhouse.web.audit_words import action_name, actor_name, describe
from keyhouse.web.templates import render

router = APIRouter(include_in_schema=False, tags=["pages"])

PAGE_SIZE = 50
EXPORT_DAYS = 30  # the export links' range when no dates are chosen


@router.get("/settings/audit-log")
async def audit_log(
    request: Request,
    db: DbSession,
    who: AdminUser,
    action: Annotated[str, Query(max_length=64)] = "",
    actor: Annotated[str, Query(max_length=320)] = "",
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
    cursor: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """The newest events first, a page at a time; `since` and `until` are days, both included."""
    start, end = _day(since, "since"), _day(until, "until")
    page = await audit.list_events(
        db,
        account_id=who.account_id,
        action=action or None,
        actor=actor or None,
        cursor=cursor or None,
        limit=PAGE_SIZE,
        since=_start_of(start),
        until=_start_of(end + timedelta(days=1)) if end else None,
    )
    actions, actors = await audit.filter_choices(db, account_id=who.account_id)
    members = await users.list_members(db, account_id=who.account_id)
    emails = {member.id: member.email for member in members}
    filters = {"action": action, "actor": actor, "since": since, "until": until}
    context = {
        "events": [
            (event, describe(event, emails), actor_name(event, emails)) for event in page.events
        ],
        "next_cursor": page.next_cursor,
        "first_page": not cursor,
        "actions": [(code, action_name(code)) for code in actions],
        "actors": actors,
        "filters": filters,
        "filtered": any(filters.values()),
        "export": _export_range(start, end),
    }
    return await render(request, "settings/audit_log.html", context)


def _day(text: str, name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise InvalidInput(f"{name}: give a day as YYYY-MM-DD.") from error


def _start_of(day: date | None) -> datetime | None:
    return datetime.combine(day, time(), tzinfo=UTC) if day else None


def _export_range(start: date | None, end: date | None) -> dict[str, str]:
    """The export's query for the days shown (the last 30 days when none are chosen)."""
    after_end = datetime.combine(end + timedelta(days=1), time(), tzinfo=UTC) if end else None
    until = after_end or datetime.now(UTC)
    since = _start_of(start) or until - timedelta(days=EXPORT_DAYS)
    return {"since": since.isoformat(), "until": until.isoformat()}
