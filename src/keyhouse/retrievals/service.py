"""Retrievals: preview (a read) and run (a write, all or nothing) of accounts back to the pool."""

import uuid
from collections import Counter
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.auth.principal import Principal
from keyhouse.crm_accounts import repository as crm_accounts
from keyhouse.crm_accounts.criteria import (
    criteria_clause,
    criteria_json,
    ranking_json,
    ranking_order,
)
from keyhouse.crm_accounts.repository import Candidate
from keyhouse.distributions.planning import list_moves
from keyhouse.errors import InvalidInput, NotFound
from keyhouse.kit.listing import Query
from keyhouse.kit.orm import utcnow
from keyhouse.kit.pagination import PageRequest
from keyhouse.ownership import service as ownership
from keyhouse.ownership.models import ChangeReason
from keyhouse.retrievals import repository
from keyhouse.retrievals.models import Retrieval
from keyhouse.retrievals.schemas import (
    RepLoss,
    RetrievalOut,
    RetrievalPlan,
    RetrievalRunOut,
    RetrievalSpec,
)
from keyhouse.target_books import repository as target_books

PREVIEW_MOVES_LIMIT = 1000
RUN_MOVES_LIMIT = 100


async def list_retrievals(
    session: AsyncSession, principal: Principal, *, page: PageRequest
) -> Sequence[Retrieval]:
    """A page of the retrievals that ran in the caller's account."""
    return await repository.list_page(session, account_id=principal.account_id, page=page)


async def get(session: AsyncSession, principal: Principal, *, retrieval_id: uuid.UUID) -> Retrieval:
    """One retrieval of the caller's account."""
    found = await repository.get(
        session, account_id=principal.account_id, retrieval_id=retrieval_id
    )
    if found is None:
        raise NotFound("retrieval")
    return found


async def preview(
    session: AsyncSession,
    principal: Principal,
    *,
    spec: RetrievalSpec,
    moves_limit: int = PREVIEW_MOVES_LIMIT,
) -> RetrievalPlan:
    """Which accounts would go back to the pool now; changes nothing."""
    candidates = await _candidates(session, principal, spec)
    return await _describe(session, principal, candidates, moves_limit)


async def run(
    session: AsyncSession,
    principal: Principal,
    *,
    spec: RetrievalSpec,
    moves_limit: int = RUN_MOVES_LIMIT,
) -> RetrievalRunOut:
    """Return the matching accounts to the pool and record each move; all or nothing (409)."""
    candidates = await _candidates(session, principal, spec)
    retrieval = Retrieval(
        account_id=principal.account_id,
        name=spec.name,
        from_rep_ids=[str(rep_id) for rep_id in spec.from_rep_ids] if spec.from_rep_ids else None,
        from_book_id=spec.from_book_id,
        criteria=criteria_json(spec.criteria),
        ranking=ranking_json(spec.ranking),
        max_accounts=spec.max_accounts,
        moved_count=len(candidates),
        ran_at=utcnow(),
        ran_by_key_id=principal.key_id,
    )
    repository.add(session, retrieval)
    await session.flush()
    # A concurrent retrieval or distribution that moved one of these accounts first makes
    # the guarded update come up short: 409, and this whole transaction rolls back.
    await ownership.transfer(
        session,
        account_id=principal.account_id,
        moves=[ownership.Move(account.id, account.owner_rep_id, None) for account in candidates],
        origin=ownership.Origin(
            actor=ownership.actor_of(principal),
            reason=ChangeReason.RETRIEVAL,
            retrieval_id=retrieval.id,
        ),
    )
    return RetrievalRunOut(
        retrieval=RetrievalOut.model_validate(retrieval),
        plan=await _describe(session, principal, candidates, moves_limit),
    )


async def transfers_query(
    session: AsyncSession, principal: Principal, *, retrieval_id: uuid.UUID, page: PageRequest
) -> Query:
    """The query of a page of the moves a run recorded; 404 if there is no such retrieval."""
    retrieval = await get(session, principal, retrieval_id=retrieval_id)
    return ownership.transfers_query(principal, page=page, retrieval_id=retrieval.id)


async def _candidates(
    session: AsyncSession, principal: Principal, spec: RetrievalSpec
) -> list[Candidate]:
    owners = await _owners(session, principal, spec)
    if owners == []:
        return []
    return await crm_accounts.ranked_candidates(
        session,
        account_id=principal.account_id,
        owners=owners,
        where=criteria_clause(spec.criteria, utcnow()),
        order=ranking_order(spec.ranking),
        limit=spec.max_accounts,
    )


async def _owners(
    session: AsyncSession, principal: Principal, spec: RetrievalSpec
) -> list[uuid.UUID | None] | None:
    account_id = principal.account_id
    if spec.from_book_id is not None:
        book = await target_books.get(session, account_id=account_id, book_id=spec.from_book_id)
        if book is None:
            raise InvalidInput(f"from_book_id: no target book {spec.from_book_id} in this account.")
        return list(book.rep_ids)
    if spec.from_rep_ids is None:
        return None
    reps = await target_books.reps_by_id(session, account_id=account_id, rep_ids=spec.from_rep_ids)
    for rep_id in spec.from_rep_ids:
        if rep_id not in reps:
            raise InvalidInput(f"from_rep_ids: no rep {rep_id} in this account.")
    return list(reps)


async def _describe(
    session: AsyncSession, principal: Principal, candidates: list[Candidate], moves_limit: int
) -> RetrievalPlan:
    losses = Counter(account.owner_rep_id for account in candidates)
    names = await repository.rep_names(session, account_id=principal.account_id)
    return RetrievalPlan(
        moves_total=len(candidates),
        reps=[
            RepLoss(rep_id=rep_id, name=names.get(rep_id, ""), loses=count)
            for rep_id, count in losses.most_common()
            if rep_id is not None
        ],
        moves=list_moves([(account, None) for account in candidates], moves_limit),
        moves_truncated=len(candidates) > moves_limit,
    )
