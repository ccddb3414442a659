"""SQL of reps; every query takes the account id."""

import functools
import uuid
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.kit.listing import LIKE_ESCAPE, Condition, Listing, Query, contained, where_given
from keyhouse.kit.pagination import PageRequest, paginate
from keyhouse.reps.models import Rep
from keyhouse.reps.schemas import RepOut


async def get(session: AsyncSession, *, account_id: uuid.UUID, rep_id: uuid.UUID) -> Rep | None:
    """A live rep of the account."""
    query = select(Rep).where(
        Rep.account_id == account_id, Rep.id == rep_id, Rep.deleted_at.is_(None)
    )
    return (await session.scalars(query)).one_or_none()


async def email_taken(
    session: AsyncSession, *, account_id: uuid.UUID, email: str, except_id: uuid.UUID | None = None
) -> bool:
    """Whether another rep of the account has this email."""
    query = select(Rep.id).where(Rep.account_id == account_id, Rep.email == email)
    if except_id is not None:
        query = query.where(Rep.id != except_id)
    return await session.scalar(query.limit(1)) is not None


# The rows of a list as `RepOut` items, read without ORM objects (kit/listing.py).
LISTING = Listing(Rep, RepOut)
FILTERS: dict[str, Condition] = {
    "active": lambda value: Rep.active == value,
    "search": lambda value: Rep.name.icontains(value, escape=LIKE_ESCAPE),
}


def page_query(
    *, account_id: uuid.UUID, page: PageRequest, active: bool | None, search: str | None
) -> Query:
    """One page of the account's reps in feed order; the feed includes removed reps."""
    search = contained(search) if search else None
    values = {"account_id": account_id, "active": active, "search": search, **page.values()}
    return Query.of(_page_statement, values, filters=FILTERS)


@functools.cache
def _page_statement(bound: frozenset[str]) -> Select[Any]:
    query = LISTING.select().where(Rep.account_id == bindparam("account_id"))
    if "updated_since" not in bound:
        query = query.where(Rep.deleted_at.is_(None))
    query = where_given(query, FILTERS, bound)
    return paginate(query, bound, Rep.updated_at, Rep.id)


def add(session: AsyncSession, rep: Rep) -> None:
    """Queue a new rep for insert."""
    session.add(rep)
