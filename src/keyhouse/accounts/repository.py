"""SQL of accounts."""

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.accounts.models import Account


async def find(session: AsyncSession, *, id_or_slug: str) -> Account | None:
    """The account with this id or slug."""
    try:
        condition = Account.id == uuid.UUID(id_or_slug)
    except ValueError:
        condition = Account.slug == id_or_slug
    return (await session.scalars(select(Account).where(condition))).one_or_none()


async def slug_taken(session: AsyncSession, *, slug: str) -> bool:
    """Whether an account already uses this slug."""
    return await session.scalar(select(Account.id).where(Account.slug == slug)) is not None


def add(session: AsyncSession, account: Account) -> None:
    """Queue a new account for insert."""
    session.add(account)


async def first_names(session: AsyncSession, *, limit: int) -> list[str]:
    """The names of at most `limit` accounts, in no particular order."""
    return list((await session.scalars(select(Account.name).limit(limit))).all())
