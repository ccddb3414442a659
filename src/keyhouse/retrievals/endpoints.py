"""REST endpoints of retrievals: /api/v1/retrievals."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from keyhouse.auth.dependencies import ReadAccess, WriteAccess
from keyhouse.db import DbSession
from keyhouse.kit.pagination import Page, Pagination, make_page
from keyhouse.ownership import service as ownership
from keyhouse.ownership.schemas import OwnershipChangeOut
from keyhouse.retrievals import service
from keyhouse.retrievals.schemas import (
    RetrievalOut,
    RetrievalPlan,
    RetrievalRunOut,
    RetrievalSpec,
)

router = APIRouter(prefix="/api/v1/retrievals", tags=["retrievals"])

MovesLimit = Annotated[int, Query(ge=0, le=10_000, description="How many moves to list.")]


@router.get("", summary="List retrievals that ran (a changes feed with updated_since)")
async def list_retrievals(
    who: ReadAccess, session: DbSession, page: Pagination
) -> Page[RetrievalOut]:
    """Retrievals of the account in (updated_at, id) order."""
    rows = await service.list_retrievals(session, who, page=page)
    return make_page(list(rows), page, RetrievalOut)


@router.get("/{retrieval_id}", summary="Get a retrieval")
async def get_retrieval(
    retrieval_id: uuid.UUID, who: ReadAccess, session: DbSession
) -> RetrievalOut:
    """One retrieval."""
    return RetrievalOut.model_validate(await service.get(session, who, retrieval_id=retrieval_id))


@router.post("/preview", summary="Preview a retrieval (a read: changes nothing)")
async def preview_retrieval(
    body: RetrievalSpec,
    who: ReadAccess,
    session: DbSession,
    moves_limit: MovesLimit = service.PREVIEW_MOVES_LIMIT,
) -> RetrievalPlan:
    """Which accounts would go back to the pool, from whom, in ranking order."""
    return await service.preview(session, who, spec=body, moves_limit=moves_limit)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Run a retrieval")
async def run_retrieval(
    body: RetrievalSpec,
    who: WriteAccess,
    session: DbSession,
    moves_limit: MovesLimit = service.RUN_MOVES_LIMIT,
) -> RetrievalRunOut:
    """Return the matching accounts to the pool, all or nothing, and record each move."""
    return await service.run(session, who, spec=body, moves_limit=moves_limit)


@router.get(
    "/{retrieval_id}/transfers",
    response_model=Page[OwnershipChangeOut],
    summary="Moves a retrieval made",
)
async def list_retrieval_transfers(
    retrieval_id: uuid.UUID, who: ReadAccess, session: DbSession, page: Pagination
) -> Response:
    """Each account returned to the pool: from whom, when and by which key."""
    query = await service.transfers_query(session, who, retrieval_id=retrieval_id, page=page)
    rows = await query.rows(session)
    return ownership.LISTING.response(rows, limit=page.limit)
