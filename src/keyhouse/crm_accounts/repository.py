"""SQL of CRM accounts; every query takes the account id."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, UnaryExpression, and_, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from keyhouse.crm_accounts.models import CrmAccount
from keyhouse.crm_accounts.schemas import CrmAccountOut
from keyhouse.kit.listing import Listing
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


def page_query(
    *, account_id: uuid.UUID, page: PageRequest, filters: CrmAccountFilters
) -> Select[Any]:
    """One page of accounts in feed order; the feed includes removed accounts."""
    query = LISTING.select().where(CrmAccount.account_id == account_id)
    if page.updated_since is None:
        query = query.where(CrmAccount.deleted_at.is_(None))
    query = _narrow(query, filters)
    return paginate(query, page, CrmAccount.updated_at, CrmAccount.id)


def _narrow(query: Select[Any], filters: CrmAccountFilters) -> Select[Any]:
    if filters.owner_rep_id is not None:
        query = query.where(CrmAccount.owner_rep_id == filters.owner_rep_id)
    if filters.in_pool is not None:
        owner = CrmAccount.owner_rep_id
        query = query.where(owner.is_(None) if filters.in_pool else owner.is_not(None))
    if filters.industry is not None:
        query = query.where(CrmAccount.industry == filters.industry)
    if filters.region is not None:
        query = query.where(CrmAccount.region == filters.region)
    if filters.tier is not None:
        query = query.where(CrmAccount.tier == filters.tier)
    if filters.min_fit_score is not None:
        query = query.where(CrmAccount.fit_score >= filters.min_fit_score)
    if filters.search:
        query = query.where(CrmAccount.name.icontains(filters.search, autoescape=True))
    return query


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
