"""SQL of retrievals; every query takes the account id."""

import uuid
from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.kit.pagination import PageRequest, paginate
from keyhouse.reps.models import Rep
from keyhouse.retrievals.models import Retrieval


async def get(
    session: AsyncSession, *, account_id: uuid.UUID, retrieval_id: uuid.UUID
) -> Retrieval | None:
    """A retrieval of the account."""
    query = select(Retrieval).where(
        Retrieval.account_id == account_id, Retrieval.id == retrieval_id
    )
    return (await session.scalars(query)).one_or_none()


async def list_page(
    session: AsyncSession, *, account_id: uuid.UUID, page: PageRequest
) -> Sequence[Retrieval]:
    """One page of retrievals in feed order."""
    query: Select[Retrieval] = select(Retrieval).where(Retrieval.account_id == account_id)
    values = page.values()
    paged = paginate(query, values, Retrieval.updated_at, Retrieval.id)
    return (await session.scalars(paged, values)).all()


async def rep_names(session: AsyncSession, *, account_id: uuid.UUID) -> dict[uuid.UUID, str]:
    """Every rep's name by id (removed reps included: history names them)."""
    rows = await session.execute(select(Rep.id, Rep.name).where(Rep.account_id == account_id))
    return {rep_id: name for rep_id, name in rows.all()}


def add(session: AsyncSession, retrieval: Retrieval) -> None:
    """Queue a new retrieval for insert."""
    session.add(retrieval)
