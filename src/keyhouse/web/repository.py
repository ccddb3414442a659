"""SQL of browser sessions, and the counts the workspace page shows."""

import uuid
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.accounts.models import Account
from keyhouse.crm_accounts.models import CrmAccount
from keyhouse.reps.models import Rep
from keyhouse.users.models import User
from keyhouse.web.models import WebSession


def add(session: AsyncSession, web_session: WebSession) -> None:
    """Queue a new session for insert."""
    session.add(web_session)


async def find_signed_in(
    session: AsyncSession, *, token_hash: str
) -> tuple[WebSession, User, Account] | None:
    """The session with this keyed hash, its user and the user's account."""
    query = (
        select(WebSession, User, Account)
        .join(User, User.id == WebSession.user_id)
        .join(Account, Account.id == User.account_id)
        .where(WebSession.token_hash == token_hash)
    )
    row = (await session.execute(query)).first()
    return None if row is None else (row[0], row[1], row[2])


async def touch(session: AsyncSession, *, session_id: uuid.UUID, now: datetime) -> None:
    """Note that the session was used at `now` (keeps it from idling out)."""
    await session.execute(
        update(WebSession).where(WebSession.id == session_id).values(last_seen_at=now)
    )


async def remove(session: AsyncSession, *, token_hash: str) -> None:
    """Delete the session with this keyed hash, if it exists."""
    await session.execute(delete(WebSession).where(WebSession.token_hash == token_hash))


async def remove_for_user(session: AsyncSession, *, user_id: uuid.UUID) -> None:
    """Delete every session of a user (they must sign in again)."""
    await session.execute(delete(WebSession).where(WebSession.user_id == user_id))


async def remove_stale(
    session: AsyncSession, *, user_id: uuid.UUID, idle_before: datetime, now: datetime
) -> None:
    """Delete a user's sessions that idled out or reached their absolute limit."""
    await session.execute(
        delete(WebSession).where(
            WebSession.user_id == user_id,
            or_(WebSession.last_seen_at < idle_before, WebSession.expires_at <= now),
        )
    )


async def workspace_counts(session: AsyncSession, *, account_id: uuid.UUID) -> tuple[int, int]:
    """How many live reps and CRM accounts the account has."""
    reps = await session.scalar(
        select(func.count())
        .select_from(Rep)
        .where(Rep.account_id == account_id, Rep.deleted_at.is_(None))
    )
    crm_accounts = await session.scalar(
        select(func.count())
        .select_from(CrmAccount)
        .where(CrmAccount.account_id == account_id, CrmAccount.deleted_at.is_(None))
    )
    return reps or 0, crm_accounts or 0
