"""SQL of CRM accounts; every query takes the account id."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.crm_accounts.models import CrmAccount
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


async def list_page(
    session: AsyncSession, *, account_id: uuid.UUID, page: PageRequest, filters: CrmAccountFilters
) -> Sequence[CrmAccount]:
    """One page of accounts in feed order; the feed includes removed accounts."""
    query: Select[CrmAccount] = select(CrmAccount).where(CrmAccount.account_id == account_id)
    if page.updated_since is None:
        query = query.where(CrmAccount.deleted_at.is_(None))
    query = _narrow(query, filters)
    return (
        await session.scalars(paginate(query, page, CrmAccount.updated_at, CrmAccount.id))
    ).all()


def _narrow(query: Select[CrmAccount], filters: CrmAccountFilters) -> Select[CrmAccount]:
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
