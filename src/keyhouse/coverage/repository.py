"""SQL of the coverage report; every query takes the account id."""

import uuid

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.reps.models import Rep
from keyhouse.target_books.models import TargetBook


async def reps_with_capacity(
    session: AsyncSession, *, account_id: uuid.UUID
) -> list[tuple[Rep, int | None]]:
    """Every live rep of the account, by name, with its book's capacity (None without a book)."""
    query = (
        select(Rep, TargetBook.max_capacity)
        .outerjoin(
            TargetBook,
            and_(TargetBook.id == Rep.target_book_id, TargetBook.deleted_at.is_(None)),
        )
        .where(Rep.account_id == account_id, Rep.deleted_at.is_(None))
        .order_by(Rep.name, Rep.id)
    )
    return [(rep, capacity) for rep, capacity in (await session.execute(query)).all()]
