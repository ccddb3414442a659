"""SQL of target books; every query takes the account id."""

import uuid
from collections.abc import Sequence

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.kit.orm import utcnow
from keyhouse.kit.pagination import PageRequest, paginate
from keyhouse.reps.models import Rep
from keyhouse.target_books.models import TargetBook


async def get(
    session: AsyncSession, *, account_id: uuid.UUID, book_id: uuid.UUID
) -> TargetBook | None:
    """A live target book of the account."""
    query = select(TargetBook).where(
        TargetBook.account_id == account_id,
        TargetBook.id == book_id,
        TargetBook.deleted_at.is_(None),
    )
    return (await session.scalars(query)).one_or_none()


async def get_many(
    session: AsyncSession, *, account_id: uuid.UUID, book_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, TargetBook]:
    """Live books of the account by id."""
    if not book_ids:
        return {}
    query = select(TargetBook).where(
        TargetBook.account_id == account_id,
        TargetBook.id.in_(set(book_ids)),
        TargetBook.deleted_at.is_(None),
    )
    return {book.id: book for book in (await session.scalars(query)).all()}


async def name_taken(
    session: AsyncSession, *, account_id: uuid.UUID, name: str, except_id: uuid.UUID | None
) -> bool:
    """Whether another live book of the account has this name."""
    query = select(TargetBook.id).where(
        TargetBook.account_id == account_id,
        TargetBook.name == name,
        TargetBook.deleted_at.is_(None),
    )
    if except_id is not None:
        query = query.where(TargetBook.id != except_id)
    return await session.scalar(query.limit(1)) is not None


async def list_page(
    session: AsyncSession, *, account_id: uuid.UUID, page: PageRequest
) -> Sequence[TargetBook]:
    """One page of books in feed order; the feed includes removed books."""
    query: Select[TargetBook] = select(TargetBook).where(TargetBook.account_id == account_id)
    if page.updated_since is None:
        query = query.where(TargetBook.deleted_at.is_(None))
    values = page.values()
    paged = paginate(query, values, TargetBook.updated_at, TargetBook.id)
    return (await session.scalars(paged, values)).all()


async def reps_by_id(
    session: AsyncSession, *, account_id: uuid.UUID, rep_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Rep]:
    """Live reps of the account by id (ids of other accounts are simply absent)."""
    if not rep_ids:
        return {}
    query = select(Rep).where(
        Rep.account_id == account_id, Rep.id.in_(set(rep_ids)), Rep.deleted_at.is_(None)
    )
    return {rep.id: rep for rep in (await session.scalars(query)).all()}


async def release_members(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    book_id: uuid.UUID,
    keep: Sequence[uuid.UUID] = (),
) -> None:
    """Take every rep but `keep` out of the book (their updated_at moves, for the feed)."""
    statement = (
        update(Rep)
        .where(Rep.account_id == account_id, Rep.target_book_id == book_id)
        .values(target_book_id=None, updated_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    if keep:
        statement = statement.where(Rep.id.not_in(keep))
    await session.execute(statement)


def add(session: AsyncSession, book: TargetBook) -> None:
    """Queue a new book for insert."""
    session.add(book)
