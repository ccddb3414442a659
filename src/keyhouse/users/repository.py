"""SQL of users."""

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.accounts.models import Account
from keyhouse.users.models import Invitation, Role, User


async def find_by_email(session: AsyncSession, *, email: str) -> User | None:
    """The user signing in with this email (emails are unique across accounts)."""
    return (await session.scalars(select(User).where(User.email == email))).one_or_none()


async def lock_members(session: AsyncSession, *, user: User) -> None:
    """Hold the write lock on `user`'s account's members until commit, then reload `user`.

    A no-op UPDATE of the account row: on PostgreSQL it locks that row, so two role changes
    in one account run one after the other; on SQLite it opens the write transaction, which
    SQLite allows one at a time. Either way what is read next is what the change applies to.
    """
    await session.execute(
        update(Account)
        .where(Account.id == user.account_id)
        .values(name=Account.name)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(user)


async def active_admins(session: AsyncSession, *, account_id: uuid.UUID) -> Sequence[User]:
    """The account's active admins (under `lock_members`, so two demotions cannot both pass)."""
    query = select(User).where(
        User.account_id == account_id, User.role == Role.ADMIN, User.active.is_(True)
    )
    return (await session.scalars(query)).all()


def add(session: AsyncSession, user: User) -> None:
    """Queue a new user for insert."""
    session.add(user)


async def get(session: AsyncSession, *, account_id: uuid.UUID, user_id: uuid.UUID) -> User | None:
    """A user of the account."""
    query = select(User).where(User.account_id == account_id, User.id == user_id)
    return (await session.scalars(query)).one_or_none()


async def list_for_account(session: AsyncSession, *, account_id: uuid.UUID) -> Sequence[User]:
    """The account's users, by email."""
    query = select(User).where(User.account_id == account_id).order_by(User.email)
    return (await session.scalars(query)).all()


def add_invitation(session: AsyncSession, invitation: Invitation) -> None:
    """Queue a new invitation for insert."""
    session.add(invitation)


async def find_invitation(
    session: AsyncSession, *, token_hash: str
) -> tuple[Invitation, User] | None:
    """The invitation with this keyed hash and its user, locked so it is accepted once."""
    query = (
        select(Invitation, User)
        .join(User, User.id == Invitation.user_id)
        .where(Invitation.token_hash == token_hash)
        .with_for_update()
    )
    row = (await session.execute(query)).first()
    return None if row is None else (row[0], row[1])


async def open_invitations(
    session: AsyncSession, *, account_id: uuid.UUID, now: datetime
) -> dict[uuid.UUID, datetime]:
    """When each user's latest open invitation expires, by user id."""
    query = select(Invitation.user_id, func.max(Invitation.expires_at)).where(
        Invitation.account_id == account_id,
        Invitation.accepted_at.is_(None),
        Invitation.expires_at > now,
    )
    rows = await session.execute(query.group_by(Invitation.user_id))
    return {user_id: expires_at for user_id, expires_at in rows}


async def close_invitations(session: AsyncSession, *, user_id: uuid.UUID, now: datetime) -> None:
    """Mark every open invitation of a user used (one link works, the others stop)."""
    await session.execute(
        update(Invitation)
        .where(Invitation.user_id == user_id, Invitation.accepted_at.is_(None))
        .values(accepted_at=now)
    )
