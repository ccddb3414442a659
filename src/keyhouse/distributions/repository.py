"""SQL of distributions; every query takes the account id."""

import uuid
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import CursorResult, Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.distributions.models import Distribution, DistributionStatus
from keyhouse.kit.orm import utcnow
from keyhouse.kit.pagination import PageRequest, paginate
from keyhouse.reps.models import Rep


async def get(
    session: AsyncSession, *, account_id: uuid.UUID, distribution_id: uuid.UUID
) -> Distribution | None:
    """A distribution of the account."""
    query = select(Distribution).where(
        Distribution.account_id == account_id, Distribution.id == distribution_id
    )
    return (await session.scalars(query)).one_or_none()


async def claim(
    session: AsyncSession, *, account_id: uuid.UUID, distribution_id: uuid.UUID
) -> bool:
    """Move a draft to `running`; False if it is not a draft (any more).

    The conditional UPDATE takes the row lock: a concurrent run, in any process, waits for
    this transaction, then finds no draft and gets False.
    """
    statement = (
        update(Distribution)
        .where(
            Distribution.account_id == account_id,
            Distribution.id == distribution_id,
            Distribution.status == DistributionStatus.DRAFT,
        )
        .values(status=DistributionStatus.RUNNING, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    result = cast(CursorResult[Any], await session.execute(statement))
    return result.rowcount == 1


async def list_page(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    page: PageRequest,
    status: DistributionStatus | None,
) -> Sequence[Distribution]:
    """One page of distributions in feed order."""
    query: Select[Distribution] = select(Distribution).where(Distribution.account_id == account_id)
    if status is not None:
        query = query.where(Distribution.status == status)
    values = page.values()
    paged = paginate(query, values, Distribution.updated_at, Distribution.id)
    return (await session.scalars(paged, values)).all()


async def reps_in_order(
    session: AsyncSession, *, account_id: uuid.UUID, rep_ids: Sequence[uuid.UUID], lock: bool
) -> dict[uuid.UUID, Rep]:
    """Live reps of the account by id; `lock` holds them (in id order) until the transaction ends.

    A run locks its recipients so that two runs never both fill the same rep's capacity.
    """
    query = (
        select(Rep)
        .where(Rep.account_id == account_id, Rep.id.in_(rep_ids), Rep.deleted_at.is_(None))
        .order_by(Rep.id)
    )
    if lock:
        query = query.with_for_update()
    return {rep.id: rep for rep in (await session.scalars(query)).all()}


def add(session: AsyncSession, distribution: Distribution) -> None:
    """Queue a new distribution for insert."""
    session.add(distribution)
