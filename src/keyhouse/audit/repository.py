"""SQL of the audit log: insert and read, never update or delete."""

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.audit.models import AuditEvent


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
    query = _in_range(select(AuditEvent), account_id, since, until)
    if action:
        query = query.where(AuditEvent.action == action)
    if actor:
        query = query.where(AuditEvent.actor == actor)
    if before is not None:
        moment, last_id = before
        query = query.where(
            or_(
                AuditEvent.occurred_at < moment,
                and_(AuditEvent.occurred_at == moment, AuditEvent.id < last_id),
            )
        )
    query = query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()).limit(limit)
    return (await session.scalars(query)).all()


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
    query: Select[AuditEvent],
    account_id: uuid.UUID,
    since: datetime | None,
    until: datetime | None,
) -> Select[AuditEvent]:
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
