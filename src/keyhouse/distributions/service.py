"""Distributions: create a draft, preview it (a read), run it once (a write, all or nothing)."""

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.auth.principal import Principal
from keyhouse.crm_accounts import repository as crm_accounts
from keyhouse.crm_accounts.criteria import (
    criteria_clause,
    criteria_json,
    load_criteria,
    load_ranking,
    ranking_json,
    ranking_order,
)
from keyhouse.distributions import repository
from keyhouse.distributions.models import Distribution, DistributionStatus
from keyhouse.distributions.planning import Deal, Slot, deal, describe, set_quota
from keyhouse.distributions.schemas import (
    DistributionCreate,
    DistributionOut,
    DistributionPlan,
    DistributionRunOut,
    MovedAccountFields,
)
from keyhouse.errors import Conflict, InvalidInput, NotFound
from keyhouse.kit.listing import Query
from keyhouse.kit.orm import utcnow
from keyhouse.kit.pagination import PageRequest
from keyhouse.ownership import service as ownership
from keyhouse.ownership.models import ChangeReason
from keyhouse.target_books import repository as target_books

PREVIEW_MOVES_LIMIT = 1000
RUN_MOVES_LIMIT = 100


async def list_distributions(
    session: AsyncSession,
    principal: Principal,
    *,
    page: PageRequest,
    status: DistributionStatus | None = None,
) -> Sequence[Distribution]:
    """A page of the caller's distributions."""
    return await repository.list_page(
        session, account_id=principal.account_id, page=page, status=status
    )


async def get(
    session: AsyncSession, principal: Principal, *, distribution_id: uuid.UUID
) -> Distribution:
    """One distribution of the caller's account."""
    found = await repository.get(
        session, account_id=principal.account_id, distribution_id=distribution_id
    )
    if found is None:
        raise NotFound("distribution")
    return found


async def create(
    session: AsyncSession, principal: Principal, *, data: DistributionCreate
) -> Distribution:
    """A new draft; its source and recipients must belong to the caller's account."""
    recipients = list(dict.fromkeys(data.recipient_rep_ids)) if data.recipient_rep_ids else None
    await _check_references(session, principal, data=data, recipients=recipients or [])
    set_fields = (
        data.set_fields.model_dump(mode="json", exclude_unset=True) if data.set_fields else {}
    )
    distribution = Distribution(
        account_id=principal.account_id,
        name=data.name,
        type=data.type,
        source_rep_id=data.source_rep_id,
        recipient_rep_ids=None if recipients is None else [str(rep_id) for rep_id in recipients],
        recipient_book_id=data.recipient_book_id,
        criteria=criteria_json(data.criteria),
        ranking=ranking_json(data.ranking),
        amount_per_rep=data.amount_per_rep,
        set_fields=set_fields,
        created_by_key_id=principal.key_id,
    )
    repository.add(session, distribution)
    await session.flush()
    return distribution


async def _check_references(
    session: AsyncSession,
    principal: Principal,
    *,
    data: DistributionCreate,
    recipients: list[uuid.UUID],
) -> None:
    account_id = principal.account_id
    wanted = [*recipients, *([data.source_rep_id] if data.source_rep_id else [])]
    reps = await target_books.reps_by_id(session, account_id=account_id, rep_ids=wanted)
    if data.source_rep_id is not None and data.source_rep_id not in reps:
        raise InvalidInput(f"source_rep_id: no rep {data.source_rep_id} in this account.")
    for rep_id in recipients:
        if rep_id not in reps:
            raise InvalidInput(f"recipient_rep_ids: no rep {rep_id} in this account.")
    book_id = data.recipient_book_id
    if book_id and not await target_books.get(session, account_id=account_id, book_id=book_id):
        raise InvalidInput(f"recipient_book_id: no target book {book_id} in this account.")


async def preview(
    session: AsyncSession,
    principal: Principal,
    *,
    distribution_id: uuid.UUID,
    moves_limit: int = PREVIEW_MOVES_LIMIT,
) -> DistributionPlan:
    """Which accounts would move to whom now, and why a rep would get none; changes nothing."""
    distribution = await get(session, principal, distribution_id=distribution_id)
    if distribution.status is not DistributionStatus.DRAFT:
        raise Conflict("The distribution has already run; see its transfers.")
    planned = await _plan(session, principal, distribution, lock=False)
    return describe(planned, distribution_id=distribution.id, moves_limit=moves_limit)


async def run(
    session: AsyncSession,
    principal: Principal,
    *,
    distribution_id: uuid.UUID,
    moves_limit: int = RUN_MOVES_LIMIT,
) -> DistributionRunOut:
    """Run a draft once: every planned transfer happens and is recorded, or none does (409)."""
    if not await repository.claim(
        session, account_id=principal.account_id, distribution_id=distribution_id
    ):
        await get(session, principal, distribution_id=distribution_id)
        raise Conflict("The distribution has already run (or is running); it runs only once.")
    distribution = await get(session, principal, distribution_id=distribution_id)
    planned = await _plan(session, principal, distribution, lock=True)
    ran_at = await ownership.transfer(
        session,
        account_id=principal.account_id,
        moves=planned.as_moves(),
        origin=ownership.Origin(
            actor=ownership.actor_of(principal),
            reason=ChangeReason.DISTRIBUTION,
            distribution_id=distribution.id,
        ),
        values=MovedAccountFields.model_validate(distribution.set_fields).changes(),
    )
    distribution.status = DistributionStatus.COMPLETED
    distribution.ran_at = ran_at
    distribution.ran_by_key_id = principal.key_id
    distribution.moved_count = len(planned.moves)
    await session.flush()
    return DistributionRunOut(
        distribution=DistributionOut.model_validate(distribution),
        plan=describe(planned, distribution_id=distribution.id, moves_limit=moves_limit),
    )


async def transfers_query(
    session: AsyncSession, principal: Principal, *, distribution_id: uuid.UUID, page: PageRequest
) -> Query:
    """The query of a page of the moves a run recorded; 404 if there is no such distribution."""
    distribution = await get(session, principal, distribution_id=distribution_id)
    return ownership.transfers_query(principal, page=page, distribution_id=distribution.id)


async def _plan(
    session: AsyncSession, principal: Principal, distribution: Distribution, *, lock: bool
) -> Deal:
    rep_ids = await _recipient_ids(session, principal, distribution)
    slots = await _slots(session, principal, rep_ids, lock=lock)
    for slot in slots:
        set_quota(
            slot,
            kind=distribution.type,
            amount=distribution.amount_per_rep,
            source=distribution.source_rep_id,
        )
    wanted = sum(slot.quota for slot in slots)
    candidates = []
    if wanted:
        candidates = await crm_accounts.ranked_candidates(
            session,
            account_id=principal.account_id,
            owners=[distribution.source_rep_id],
            where=criteria_clause(load_criteria(distribution.criteria), utcnow()),
            order=ranking_order(load_ranking(distribution.ranking)),
            limit=wanted,
        )
    return deal(slots, candidates)


async def _recipient_ids(
    session: AsyncSession, principal: Principal, distribution: Distribution
) -> list[uuid.UUID]:
    listed = distribution.recipient_reps
    if listed is not None:
        return listed
    assert distribution.recipient_book_id is not None
    book = await target_books.get(
        session, account_id=principal.account_id, book_id=distribution.recipient_book_id
    )
    if book is None:
        raise Conflict("recipient_book_id: the target book was removed; nothing to deal to.")
    return book.rep_ids


async def _slots(
    session: AsyncSession, principal: Principal, rep_ids: list[uuid.UUID], *, lock: bool
) -> list[Slot]:
    account_id = principal.account_id
    reps = await repository.reps_in_order(
        session, account_id=account_id, rep_ids=rep_ids, lock=lock
    )
    book_ids = [rep.target_book_id for rep in reps.values() if rep.target_book_id]
    books = await target_books.get_many(session, account_id=account_id, book_ids=book_ids)
    loads = await crm_accounts.count_by_owner(session, account_id=account_id, rep_ids=rep_ids)
    slots = []
    for rep_id in rep_ids:
        rep = reps.get(rep_id)
        book = books.get(rep.target_book_id) if rep and rep.target_book_id else None
        slots.append(
            Slot(
                rep_id=rep_id,
                name=rep.name if rep else None,
                active=rep.active if rep else False,
                capacity=book.max_capacity if book else None,
                load=loads.get(rep_id, 0),
            )
        )
    return slots
