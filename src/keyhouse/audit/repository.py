"""SQL of the audit log: insert and read, never update or delete."""

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.audit.models import AuditEvent
from keyhouse.audit.schemas import AuditEventOut
from keyhouse.kit.listing import Listing


def add(session: AsyncSession, event: AuditEvent) -> None:
    """Queue an event for insert in the current transaction."""
    session.add(event)


async def last_sign_ins(
    session: AsyncSession, *, account_id: uuid.UUID
) -> dict[uuid.UUID, datetime]:
    """When each user of the account last signed in, for those who ever did."""
    query = (
        select(AuditEvent.actor_user_id, func.max(AuditEvent.occurred_at))
        .where(AuditEvent.account_id == account_id, AuditEvent.action == "user.signed_in")
        .group_by(AuditEvent.actor_user_id)
    )
    rows = (await session.execute(query)).all()
    return {user_id: moment for user_id, moment in rows if user_id is not None}


# The rows of a list as `AuditEventOut` items, read without ORM objects (kit/listing.py).
LISTING = Listing(AuditEvent, AuditEventOut)


async def list_for_account(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    limit: int = 100,
    action: str | None = None,
    actor: str | None = None,
    before: tuple[datetime, uuid.UUID] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Sequence[AuditEvent]:
    """The account's events, newest first, optionally filtered and starting after `before`."""
    narrowed = EventFilter(action, actor, before, since, until)
    return (
        await session.scalars(newest_first(select(AuditEvent), account_id, narrowed, limit))
    ).all()


def page_query(*, account_id: uuid.UUID, narrowed: "EventFilter", limit: int) -> Select[Any]:
    """The same events as `list_for_account`, as the columns of `AuditEventOut`."""
    return newest_first(LISTING.select(), account_id, narrowed, limit)


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events of an account a reader asked for."""

    action: str | None = None
    actor: str | None = None
    before: tuple[datetime, uuid.UUID] | None = None
    since: datetime | None = None
    until: datetime | None = None


def newest_first(
    query: Select[Any], account_id: uuid.UUID, narrowed: EventFilter, limit: int
) -> Select[Any]:
    """`query` narrowed to the account's matching events, newest first, at most `limit`."""
    query = _in_range(query, account_id, narrowed.since, narrowed.until)
    if narrowed.action:
        query = query.where(AuditEvent.action == narrowed.action)
    if narrowed.actor:
        query = query.where(AuditEvent.actor == narrowed.actor)
    if narrowed.before is not None:
        moment, last_id = narrowed.before
        query = query.where(
            or_(
                AuditEvent.occurred_at < moment,
                and_(AuditEvent.occurred_at == moment, AuditEvent.id < last_id),
            )
        )
    return query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()).limit(limit)


async def distinct_values(
    session: AsyncSession, *, account_id: uuid.UUID
) -> tuple[list[str], list[str]]:
    """The actions and the actors that occur in the account's log, sorted."""
    where = AuditEvent.account_id == account_id
    actions = await session.scalars(select(AuditEvent.action).where(where).distinct())
    actors = await session.scalars(select(AuditEvent.actor).where(where).distinct())
    return sorted(actions), sorted(actors)


EXPORT_CHUNK_ROWS = 1000


def _in_range(
    query: Select[Any],
    account_id: uuid.UUID,
    since: datetime | None,
    until: datetime | None,
) -> Select[Any]:
    query = query.where(AuditEvent.account_id == account_id)
    if since is not None:
        query = query.where(AuditEvent.occurred_at >= since)
    if until is not None:
        query = query.where(AuditEvent.occurred_at < until)
    return query


async def stream_range(
    session: AsyncSession, *, account_id: uuid.UUID, since: datetime, until: datetime
) -> AsyncIterator[Sequence[AuditEvent]]:
    """The account's events in [since, until), oldest first, in chunks, never all in memory."""
    query = (
        _in_range(select(AuditEvent), account_id, since, until)
        .order_by(AuditEvent.occurred_at, AuditEvent.id)
        .execution_options(yield_per=EXPORT_CHUNK_ROWS)
    )
    result = await session.stream_scalars(query)
    async for partition in result.partitions():
        yield partition
