"""Target books: list, get, create, update (members included), remove, and the book report."""

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.auth.principal import Principal
from keyhouse.crm_accounts import repository as crm_accounts
from keyhouse.crm_accounts.criteria import criteria_clause, criteria_json, load_criteria
from keyhouse.errors import Conflict, InvalidInput, NotFound
from keyhouse.kit.orm import utcnow
from keyhouse.kit.pagination import PageRequest
from keyhouse.target_books import repository
from keyhouse.target_books.models import TargetBook
from keyhouse.target_books.schemas import (
    BookReport,
    RepLoad,
    TargetBookCreate,
    TargetBookOut,
    TargetBookUpdate,
    capacity_status,
    load_pct,
)


async def list_books(
    session: AsyncSession, principal: Principal, *, page: PageRequest
) -> Sequence[TargetBook]:
    """A page of the caller's target books."""
    return await repository.list_page(session, account_id=principal.account_id, page=page)


async def get(session: AsyncSession, principal: Principal, *, book_id: uuid.UUID) -> TargetBook:
    """One target book of the caller's account, with its members."""
    book = await repository.get(session, account_id=principal.account_id, book_id=book_id)
    if book is None:
        raise NotFound("target book")
    return book


async def create(
    session: AsyncSession, principal: Principal, *, data: TargetBookCreate
) -> TargetBook:
    """A new book; its reps leave no other book (a rep already in one is a conflict)."""
    await _refuse_taken_name(session, principal, name=data.name, book_id=None)
    book = TargetBook(
        account_id=principal.account_id,
        name=data.name,
        max_capacity=data.max_capacity,
        criteria=criteria_json(data.criteria),
    )
    repository.add(session, book)
    await session.flush()
    await _set_members(session, principal, book=book, rep_ids=data.rep_ids)
    return book


async def update(
    session: AsyncSession, principal: Principal, *, book_id: uuid.UUID, data: TargetBookUpdate
) -> TargetBook:
    """Change the fields sent; `rep_ids` replaces the members."""
    book = await get(session, principal, book_id=book_id)
    changes = data.changes()
    if data.name is not None:
        await _refuse_taken_name(session, principal, name=data.name, book_id=book.id)
        book.name = data.name
    if data.max_capacity is not None:
        book.max_capacity = data.max_capacity
    if data.criteria is not None:
        book.criteria = criteria_json(data.criteria)
    if data.rep_ids is not None:
        await _set_members(session, principal, book=book, rep_ids=data.rep_ids)
    if changes:
        book.updated_at = utcnow()
    await session.flush()
    await session.refresh(book, ["members"])
    return book


async def remove(session: AsyncSession, principal: Principal, *, book_id: uuid.UUID) -> None:
    """Soft-delete a book (the feed shows it removed); its reps leave it."""
    book = await get(session, principal, book_id=book_id)
    await repository.release_members(session, account_id=principal.account_id, book_id=book.id)
    book.deleted_at = utcnow()
    await session.flush()


async def _set_members(
    session: AsyncSession, principal: Principal, *, book: TargetBook, rep_ids: list[uuid.UUID]
) -> None:
    wanted = list(dict.fromkeys(rep_ids))
    reps = await repository.reps_by_id(session, account_id=principal.account_id, rep_ids=wanted)
    for rep_id in wanted:
        rep = reps.get(rep_id)
        if rep is None:
            raise InvalidInput(f"rep_ids: no rep {rep_id} in this account.")
        if not rep.active:
            raise InvalidInput(f"rep_ids: rep {rep.name} ({rep.id}) is inactive.")
        if rep.target_book_id not in (None, book.id):
            raise Conflict(
                f"rep_ids: rep {rep.name} ({rep.id}) is already in another target book; "
                "remove it there first."
            )
    await repository.release_members(
        session, account_id=principal.account_id, book_id=book.id, keep=wanted
    )
    for rep in reps.values():
        if rep.target_book_id != book.id:
            rep.target_book_id = book.id
    await session.flush()
    await session.refresh(book, ["members"])


async def _refuse_taken_name(
    session: AsyncSession, principal: Principal, *, name: str, book_id: uuid.UUID | None
) -> None:
    if await repository.name_taken(
        session, account_id=principal.account_id, name=name, except_id=book_id
    ):
        raise Conflict(f"name: a target book named {name!r} already exists in this account.")


async def book_report(
    session: AsyncSession, principal: Principal, *, book_id: uuid.UUID
) -> BookReport:
    """Per member rep: owned and matching accounts, capacity, load % and over/under capacity."""
    book = await get(session, principal, book_id=book_id)
    rep_ids = book.rep_ids
    owned = await crm_accounts.count_by_owner(
        session, account_id=principal.account_id, rep_ids=rep_ids
    )
    matching = await crm_accounts.count_by_owner(
        session,
        account_id=principal.account_id,
        rep_ids=rep_ids,
        where=criteria_clause(load_criteria(book.criteria), utcnow()),
    )
    loads = [
        RepLoad(
            rep_id=rep.id,
            name=rep.name,
            active=rep.active,
            owned_accounts=owned.get(rep.id, 0),
            matching_accounts=matching.get(rep.id, 0),
            capacity=book.max_capacity,
            load_pct=load_pct(owned.get(rep.id, 0), book.max_capacity),
            status=capacity_status(owned.get(rep.id, 0), book.max_capacity),
        )
        for rep in book.members
    ]
    return BookReport(
        book=TargetBookOut.model_validate(book),
        reps=loads,
        total_owned=sum(load.owned_accounts for load in loads),
        total_capacity=book.max_capacity * len(loads),
        over_capacity=sum(load.status == "over" for load in loads),
        under_capacity=sum(load.status == "under" for load in loads),
    )
