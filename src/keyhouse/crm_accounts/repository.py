"""SQL of CRM accounts; every query takes the account id."""

import functools
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Select,
    UnaryExpression,
    and_,
    bindparam,
    false,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from keyhouse.crm_accounts.models import CrmAccount
from keyhouse.crm_accounts.schemas import CrmAccountOut
from keyhouse.kit.listing import LIKE_ESCAPE, Condition, Listing, Query, contained, where_given
from keyhouse.kit.pagination import PageRequest, paginate


@dataclass(frozen=True, slots=True)
class CrmAccountFilters:
    """What a list of accounts can be narrowed by."""

    owner_rep_id: uuid.UUID | None = None
    in_pool: bool | None = None
    industry: str | None = None
    region: str | None = None
    tier: int | None = None
    min_fit_score: int | None = None
    search: str | None = None

    def values(self) -> dict[str, Any]:
        """The values of `FILTERS`' parameters (None: not given)."""
        return asdict(self) | {"search": contained(self.search) if self.search else None}


async def get(
    session: AsyncSession, *, account_id: uuid.UUID, crm_account_id: uuid.UUID
) -> CrmAccount | None:
    """A live CRM account of the account."""
    query = select(CrmAccount).where(
        CrmAccount.account_id == account_id,
        CrmAccount.id == crm_account_id,
        CrmAccount.deleted_at.is_(None),
    )
    return (await session.scalars(query)).one_or_none()


# The rows of a list as `CrmAccountOut` items, read without ORM objects (kit/listing.py).
LISTING = Listing(CrmAccount, CrmAccountOut)
FILTERS: dict[str, Condition] = {
    "owner_rep_id": lambda value: CrmAccount.owner_rep_id == value,
    "in_pool": lambda value: CrmAccount.owner_rep_id.is_(None) == value,
    "industry": lambda value: CrmAccount.industry == value,
    "region": lambda value: CrmAccount.region == value,
    "tier": lambda value: CrmAccount.tier == value,
    "min_fit_score": lambda value: CrmAccount.fit_score >= value,
    "search": lambda value: CrmAccount.name.icontains(value, escape=LIKE_ESCAPE),
}


def page_query(*, account_id: uuid.UUID, page: PageRequest, filters: CrmAccountFilters) -> Query:
    """One page of accounts in feed order; the feed includes removed accounts."""
    values = {"account_id": account_id, **page.values(), **filters.values()}
    return Query.of(_page_statement, values, filters=FILTERS)


@functools.cache
def _page_statement(bound: frozenset[str]) -> Select[Any]:
    query = LISTING.select().where(CrmAccount.account_id == bindparam("account_id"))
    if "updated_since" not in bound:
        query = query.where(CrmAccount.deleted_at.is_(None))
    query = where_given(query, FILTERS, bound)
    return paginate(query, bound, CrmAccount.updated_at, CrmAccount.id)


def add(session: AsyncSession, crm_account: CrmAccount) -> None:
    """Queue a new CRM account for insert."""
    session.add(crm_account)


async def count_by_owner(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    rep_ids: Sequence[uuid.UUID] | None = None,
    where: ColumnElement[bool] | None = None,
) -> dict[uuid.UUID, int]:
    """Live accounts per owner rep (only `rep_ids` if given), optionally narrowed by `where`."""
    owner = CrmAccount.owner_rep_id
    query = (
        select(owner, func.count())
        .where(CrmAccount.account_id == account_id, CrmAccount.deleted_at.is_(None))
        .where(owner.is_not(None) if rep_ids is None else owner.in_(rep_ids))
        .group_by(owner)
    )
    if where is not None:
        query = query.where(where)
    rows = (await session.execute(query)).all()
    return {rep_id: count for rep_id, count in rows if rep_id is not None}


async def count(
    session: AsyncSession, *, account_id: uuid.UUID, where: ColumnElement[bool] | None = None
) -> int:
    """Live accounts of the account, optionally narrowed by `where`."""
    query = select(func.count()).where(
        CrmAccount.account_id == account_id, CrmAccount.deleted_at.is_(None)
    )
    if where is not None:
        query = query.where(where)
    return await session.scalar(query) or 0


class Candidate(NamedTuple):
    """An account a distribution or retrieval may move: just what the move needs."""

    id: uuid.UUID
    name: str
    owner_rep_id: uuid.UUID | None


async def ranked_candidates(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    owners: Sequence[uuid.UUID | None] | None,
    where: ColumnElement[bool],
    order: Sequence[UnaryExpression[Any]],
    limit: int | None,
) -> list[Candidate]:
    """Live accounts owned by one of `owners` (None in it: the pool; no list: any rep), ranked."""
    owner = CrmAccount.owner_rep_id
    owned: ColumnElement[bool]
    if owners is None:
        owned = owner.is_not(None)
    else:
        reps = [rep_id for rep_id in owners if rep_id is not None]
        owned = or_(owner.in_(reps), owner.is_(None) if None in owners else false())
    query = (
        select(CrmAccount.id, CrmAccount.name, owner)
        .where(CrmAccount.account_id == account_id, CrmAccount.deleted_at.is_(None), owned, where)
        .order_by(*order)
    )
    if limit is not None:
        query = query.limit(limit)
    rows = (await session.execute(query)).all()
    return [Candidate(row_id, name, owner_rep_id) for row_id, name, owner_rep_id in rows]


def unindexed(column: InstrumentedAttribute[Any]) -> ColumnElement[Any]:
    """`column` as an expression no index matches (coalesce with itself: the same value).

    Without statistics SQLite's planner prefers an equality on any index, such as
    `owner_rep_id IS NULL` over a pool of 100,000 accounts, to a primary-key IN list, and
    then walks that whole index for every batch; this leaves it the primary key only.
    """
    return func.coalesce(column, column)


def among(account_id: uuid.UUID, crm_account_ids: Sequence[uuid.UUID]) -> ColumnElement[bool]:
    """The account's rows among `crm_account_ids`, found through the primary key."""
    in_account = unindexed(CrmAccount.account_id) == account_id
    return and_(CrmAccount.id.in_(crm_account_ids), in_account)
