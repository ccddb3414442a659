"""REST endpoints of distributions: /api/v1/distributions."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from keyhouse.auth.dependencies import ReadAccess, WriteAccess
from keyhouse.db import DbSession
from keyhouse.distributions import service
from keyhouse.distributions.models import DistributionStatus
from keyhouse.distributions.schemas import (
    DistributionCreate,
    DistributionOut,
    DistributionPlan,
    DistributionRunOut,
)
from keyhouse.kit.pagination import Page, Pagination, make_page
from keyhouse.ownership import service as ownership
from keyhouse.ownership.schemas import OwnershipChangeOut

router = APIRouter(prefix="/api/v1/distributions", tags=["distributions"])

MovesLimit = Annotated[int, Query(ge=0, le=10_000, description="How many moves to list.")]


@router.get("", summary="List distributions (a changes feed with updated_since)")
async def list_distributions(
    who: ReadAccess,
    session: DbSession,
    page: Pagination,
    status: DistributionStatus | None = None,
) -> Page[DistributionOut]:
    """Distributions of the account in (updated_at, id) order."""
    rows = await service.list_distributions(session, who, page=page, status=status)
    return make_page(list(rows), page, DistributionOut)


@router.get("/{distribution_id}", summary="Get a distribution")
async def get_distribution(
    distribution_id: uuid.UUID, who: ReadAccess, session: DbSession
) -> DistributionOut:
    """One distribution."""
    found = await service.get(session, who, distribution_id=distribution_id)
    return DistributionOut.model_validate(found)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a draft distribution")
async def create_distribution(
    body: DistributionCreate, who: WriteAccess, session: DbSession
) -> DistributionOut:
    """A draft: preview it, then run it once."""
    return DistributionOut.model_validate(await service.create(session, who, data=body))


@router.get("/{distribution_id}/preview", summary="Preview a distribution (changes nothing)")
async def preview_distribution(
    distribution_id: uuid.UUID,
    who: ReadAccess,
    session: DbSession,
    moves_limit: MovesLimit = service.PREVIEW_MOVES_LIMIT,
) -> DistributionPlan:
    """Which accounts would move to whom, in ranking order, and why a rep would get none."""
    return await service.preview(
        session, who, distribution_id=distribution_id, moves_limit=moves_limit
    )


@router.post("/{distribution_id}/run", summary="Run a distribution (once, all or nothing)")
async def run_distribution(
    distribution_id: uuid.UUID,
    who: WriteAccess,
    session: DbSession,
    moves_limit: MovesLimit = service.RUN_MOVES_LIMIT,
) -> DistributionRunOut:
    """Move every planned account and record each transfer; a second run is a 409."""
    return await service.run(session, who, distribution_id=distribution_id, moves_limit=moves_limit)


@router.get(
    "/{distribution_id}/transfers",
    response_model=Page[OwnershipChangeOut],
    summary="Transfers a run made",
)
async def list_distribution_transfers(
    distribution_id: uuid.UUID, who: ReadAccess, session: DbSession, page: Pagination
) -> Response:
    """Each moved account: from, to, when and by which key."""
    query = await service.transfers_query(session, who, distribution_id=distribution_id, page=page)
    rows = await query.rows(session)
    return ownership.LISTING.response(rows, limit=page.limit)
