"""Reps: list, get, create, update, remove."""

import uuid

from sqlalchemy import true
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.auth.principal import Principal
from keyhouse.crm_accounts import repository as crm_accounts
from keyhouse.crm_accounts.models import CrmAccount
from keyhouse.errors import Conflict, NotFound
from keyhouse.kit.listing import Query
from keyhouse.kit.orm import utcnow
from keyhouse.kit.pagination import PageRequest
from keyhouse.ownership import service as ownership
from keyhouse.ownership.models import ChangeReason
from keyhouse.reps import repository
from keyhouse.reps.models import Rep
from keyhouse.reps.schemas import RepCreate, RepUpdate

LISTING = repository.LISTING


def page_query(
    principal: Principal,
    *,
    page: PageRequest,
    active: bool | None = None,
    search: str | None = None,
) -> Query:
    """The query of a page of the caller's reps (read it with `Database.read`)."""
    return repository.page_query(
        account_id=principal.account_id, page=page, active=active, search=search
    )


async def get(session: AsyncSession, principal: Principal, *, rep_id: uuid.UUID) -> Rep:
    """One rep of the caller's account."""
    rep = await repository.get(session, account_id=principal.account_id, rep_id=rep_id)
    if rep is None:
        raise NotFound("rep")
    return rep


async def create(session: AsyncSession, principal: Principal, *, data: RepCreate) -> Rep:
    """A new rep in the caller's account."""
    await _refuse_taken_email(session, principal, email=data.email)
    rep = Rep(account_id=principal.account_id, name=data.name, email=data.email, active=data.active)
    repository.add(session, rep)
    await session.flush()
    return rep


async def update(
    session: AsyncSession, principal: Principal, *, rep_id: uuid.UUID, data: RepUpdate
) -> Rep:
    """Change the fields the caller sent."""
    rep = await get(session, principal, rep_id=rep_id)
    changes = data.changes()
    if "email" in changes:
        await _refuse_taken_email(session, principal, email=str(changes["email"]), rep_id=rep.id)
    for field, value in changes.items():
        setattr(rep, field, value)
    await session.flush()
    return rep


async def remove(session: AsyncSession, principal: Principal, *, rep_id: uuid.UUID) -> None:
    """Soft-delete a rep: it leaves its book, its accounts go back to the pool (recorded)."""
    rep = await get(session, principal, rep_id=rep_id)
    owned = await crm_accounts.ranked_candidates(
        session,
        account_id=principal.account_id,
        owners=[rep.id],
        where=true(),
        order=[CrmAccount.id.asc()],
        limit=None,
    )
    await ownership.transfer(
        session,
        account_id=principal.account_id,
        moves=[ownership.Move(account.id, rep.id, None) for account in owned],
        origin=ownership.Origin(
            actor=ownership.actor_of(principal), reason=ChangeReason.REP_REMOVED
        ),
    )
    rep.target_book_id = None
    rep.deleted_at = utcnow()
    await session.flush()


async def _refuse_taken_email(
    session: AsyncSession, principal: Principal, *, email: str, rep_id: uuid.UUID | None = None
) -> None:
    if await repository.email_taken(
        session, account_id=principal.account_id, email=email, except_id=rep_id
    ):
        raise Conflict(f"email: a rep with {email} already exists in this account.")
