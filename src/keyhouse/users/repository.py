"""SQL of users."""

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.users.models import Role, User


async def find_by_email(session: AsyncSession, *, email: str) -> User | None:
    """The user signing in with this email (emails are unique across accounts)."""
    return (await session.scalars(select(User).where(User.email == email))).one_or_none()


async def active_admins(session: AsyncSession, *, account_id: uuid.UUID) -> Sequence[User]:
    """The account's active admins, locked so two demotions cannot both pass."""
    query = (
        select(User)
        .where(User.account_id == account_id, User.role == Role.ADMIN, User.active.is_(True))
        .with_for_update()
    )
    return (await session.scalars(query)).all()


def add(session: AsyncSession, user: User) -> None:
    """Queue a new user for insert."""
    session.add(user)
