"""Recording who did what to access; every create and revoke calls `record`."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.audit import repository
from keyhouse.audit.models import AuditEvent
from keyhouse.kit.listing import Query
from keyhouse.kit.pagination import decode_cursor, encode_cursor


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did it: a signed-in user, a key, or an operator at the command line."""

    label: str
    user_id: uuid.UUID | None = None
    key_id: uuid.UUID | None = None


COMMAND_LINE = Actor(label="command line")


def record(
    session: AsyncSession,
    actor: Actor,
    *,
    account_id: uuid.UUID,
    action: str,
    subject_id: uuid.UUID | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append an event to the audit log in the caller's transaction (never a secret)."""
    repository.add(
        session,
        AuditEvent(
            account_id=account_id,
            action=action,
            actor=actor.label,
            actor_user_id=actor.user_id,
            actor_key_id=actor.key_id,
            subject_id=subject_id,
            details=details or {},
        ),
    )


@dataclass(frozen=True, slots=True)
class EventPage:
    """A page of the log, newest first; `next_cursor` continues with older events."""

    events: Sequence[AuditEvent]
    next_cursor: str | None


async def last_sign_ins(
    session: AsyncSession, *, account_id: uuid.UUID
) -> dict[uuid.UUID, datetime]:
    """When each user of the account last signed in (users who never did are absent)."""
    return await repository.last_sign_ins(session, account_id=account_id)


async def list_events(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    action: str | None = None,
    actor: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
    since: datetime | None = None,
    until: datetime | None = None,
) -> EventPage:
    """One page of the account's audit log, filtered by action, actor and [since, until)."""
    before = decode_cursor(cursor) if cursor else None
    narrowed = repository.EventFilter(action, actor, before, since, until)
    rows = await repository.list_for_account(
        session, account_id=account_id, limit=limit + 1, narrowed=narrowed
    )
    events = rows[:limit]
    more = len(rows) > limit
    next_cursor = encode_cursor(events[-1].occurred_at, events[-1].id) if more else None
    return EventPage(events=events, next_cursor=next_cursor)


LISTING = repository.LISTING


def page_query(
    *,
    account_id: uuid.UUID,
    action: str | None = None,
    actor: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Query:
    """The query of one page of the audit log, newest first (read it with `Database.read`)."""
    before = decode_cursor(cursor) if cursor else None
    narrowed = repository.EventFilter(action=action, actor=actor, before=before)
    return repository.page_query(account_id=account_id, narrowed=narrowed, limit=limit + 1)


async def filter_choices(
    session: AsyncSession, *, account_id: uuid.UUID
) -> tuple[list[str], list[str]]:
    """The actions and actors a reader can filter the account's log by."""
    return await repository.distinct_values(session, account_id=account_id)
