"""SQL of the audit log: insert and read, never update or delete."""

import functools
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import BindParameter, Select, and_, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.audit.models import AuditEvent
from keyhouse.audit.schemas import AuditEventOut
from keyhouse.kit.listing import Condition, Listing, Query, where_given


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
FILTERS: dict[str, Condition] = {
    "since": lambda value: AuditEvent.occurred_at >= value,
    "until": lambda value: AuditEvent.occurred_at < value,
    "action": lambda value: AuditEvent.action == value,
    "actor": lambda value: AuditEvent.actor == value,
}


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events of an account a reader asked for."""

    action: str | None = None
    actor: str | None = None
    before: tuple[datetime, uuid.UUID] | None = None
    since: datetime | None = None
    until: datetime | None = None

    def values(self, account_id: uuid.UUID, limit: int) -> dict[str, Any]:
        """The values of `newest_first`'s parameters (None: not given)."""
        moment, last_id = self.before or (None, None)
        return {
            "account_id": account_id,
            "limit": limit,
            "action": self.action or None,
            "actor": self.actor or None,
            "since": self.since,
            "until": self.until,
            "before_moment": moment,
            "before_id": last_id,
        }


async def list_for_account(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    limit: int = 100,
    narrowed: EventFilter,
) -> Sequence[AuditEvent]:
    """The account's events, newest first, optionally filtered and starting after `before`."""
    values = narrowed.values(account_id, limit)
    query = Query.of(partial(newest_first, select(AuditEvent)), values, filters=FILTERS)
    return (await session.scalars(query.statement, query.values)).all()


def page_query(*, account_id: uuid.UUID, narrowed: EventFilter, limit: int) -> Query:
    """The same events as `list_for_account`, as items of `AuditEventOut`."""
    return Query.of(_page_statement, narrowed.values(account_id, limit), filters=FILTERS)


@functools.cache
def _page_statement(bound: frozenset[str]) -> Select[Any]:
    return newest_first(LISTING.select(), bound)


def newest_first(query: Select[Any], bound: frozenset[str]) -> Select[Any]:
    """`query` narrowed to the account's matching events, newest first, at most `limit`."""
    query = query.where(AuditEvent.account_id == bindparam("account_id"))
    query = where_given(query, FILTERS, bound)
    if "before_moment" in bound:
        moment: BindParameter[datetime] = bindparam("before_moment")
        last_id: BindParameter[uuid.UUID] = bindparam("before_id")
        query = query.where(
            or_(
                AuditEvent.occurred_at < moment,
                and_(AuditEvent.occurred_at == moment, AuditEvent.id < last_id),
            )
        )
    order = (AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    return query.order_by(*order).limit(bindparam("limit"))


async def distinct_values(
    session: AsyncSession, *, account_id: uuid.UUID
) -> tuple[list[str], list[str]]:
    """The actions and the actors that occur in the account's log, sorted."""
    where = AuditEvent.account_id == account_id
    actions = await session.scalars(select(AuditEvent.action).where(where).distinct())
    actors = await session.scalars(select(AuditEvent.actor).where(where).distinct())
    return sorted(actions), sorted(actors)


EXPORT_CHUNK_ROWS = 1000


async def stream_range(
    session: AsyncSession, *, account_id: uuid.UUID, since: datetime, until: datetime
) -> AsyncIterator[Sequence[AuditEvent]]:
    """The account's events in [since, until), oldest first, in chunks, never all in memory."""
    query = (
        select(AuditEvent)
        .where(
            AuditEvent.account_id == account_id,
            AuditEvent.occurred_at >= since,
            AuditEvent.occurred_at < until,
        )
        .order_by(AuditEvent.occurred_at, AuditEvent.id)
        .execution_options(yield_per=EXPORT_CHUNK_ROWS)
    )
    result = await session.stream_scalars(query)
    async for partition in result.partitions():
        yield partition
