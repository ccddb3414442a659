"""CRM accounts: list, get, create, update (owner included), remove, ownership history."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.auth.principal import Principal
from keyhouse.crm_accounts import repository
from keyhouse.crm_accounts.models import CrmAccount
from keyhouse.crm_accounts.repository import CrmAccountFilters
from keyhouse.crm_accounts.schemas import CrmAccountCreate, CrmAccountUpdate
from keyhouse.errors import InvalidInput, NotFound
from keyhouse.kit.listing import Query
from keyhouse.kit.orm import utcnow
from keyhouse.kit.pagination import PageRequest
from keyhouse.ownership import service as ownership
from keyhouse.ownership.models import ChangeReason
from keyhouse.reps import repository as reps

LISTING = repository.LISTING


def page_query(principal: Principal, *, page: PageRequest, filters: CrmAccountFilters) -> Query:
    """The query of a page of the caller's accounts (read it with `Database.read`)."""
    return repository.page_query(account_id=principal.account_id, page=page, filters=filters)


async def get(
    session: AsyncSession, principal: Principal, *, crm_account_id: uuid.UUID
) -> CrmAccount:
    """One account of the caller's workspace."""
    found = await repository.get(
        session, account_id=principal.account_id, crm_account_id=crm_account_id
    )
    if found is None:
        raise NotFound("account")
    return found


async def create(
    session: AsyncSession, principal: Principal, *, data: CrmAccountCreate
) -> CrmAccount:
    """A new account in the caller's workspace."""
    fields = data.model_dump()
    await _check_owner(session, principal, fields.get("owner_rep_id"))
    crm_account = CrmAccount(account_id=principal.account_id, **fields)
    repository.add(session, crm_account)
    await session.flush()
    if crm_account.owner_rep_id is not None:
        _record_owner_change(session, principal, crm_account, previous_owner=None)
    return crm_account


async def update(
    session: AsyncSession,
    principal: Principal,
    *,
    crm_account_id: uuid.UUID,
    data: CrmAccountUpdate,
) -> CrmAccount:
    """Change the fields the caller sent; a new owner must be an active rep of the account.

    Naming the current owner again is no change, even when that rep is inactive now.
    """
    crm_account = await get(session, principal, crm_account_id=crm_account_id)
    changes = data.changes()
    previous_owner = crm_account.owner_rep_id
    if changes.get("owner_rep_id", previous_owner) != previous_owner:
        await _check_owner(session, principal, changes["owner_rep_id"])
    for field, value in changes.items():
        setattr(crm_account, field, value)
    await session.flush()
    if crm_account.owner_rep_id != previous_owner:
        _record_owner_change(session, principal, crm_account, previous_owner=previous_owner)
    return crm_account


async def remove(session: AsyncSession, principal: Principal, *, crm_account_id: uuid.UUID) -> None:
    """Soft-delete an account: it leaves lists and the changes feed shows it removed."""
    crm_account = await get(session, principal, crm_account_id=crm_account_id)
    crm_account.deleted_at = utcnow()
    await session.flush()


async def history_query(
    session: AsyncSession, principal: Principal, *, crm_account_id: uuid.UUID, page: PageRequest
) -> Query:
    """The query of a page of the account's ownership changes, oldest first; 404 if none."""
    crm_account = await get(session, principal, crm_account_id=crm_account_id)
    return ownership.history_query(principal, crm_account_id=crm_account.id, page=page)


def _record_owner_change(
    session: AsyncSession,
    principal: Principal,
    crm_account: CrmAccount,
    *,
    previous_owner: uuid.UUID | None,
) -> None:
    ownership.record_change(
        session,
        account_id=principal.account_id,
        move=ownership.Move(crm_account.id, previous_owner, crm_account.owner_rep_id),
        origin=ownership.Origin(actor=ownership.actor_of(principal), reason=ChangeReason.MANUAL),
    )


async def _check_owner(session: AsyncSession, principal: Principal, rep_id: object) -> None:
    if rep_id is None:
        return
    assert isinstance(rep_id, uuid.UUID)
    rep = await reps.get(session, account_id=principal.account_id, rep_id=rep_id)
    if rep is None:
        raise InvalidInput("owner_rep_id: no rep with that id in this account.")
    if not rep.active:
        raise InvalidInput("owner_rep_id: the rep is inactive.")
