"""REST endpoints of reps: /api/v1/reps."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from keyhouse.auth.dependencies import ReadAccess, WriteAccess
from keyhouse.db import DbSession, Reads
from keyhouse.kit.pagination import Page, Pagination
from keyhouse.reps import service
from keyhouse.reps.schemas import RepCreate, RepOut, RepUpdate

router = APIRouter(prefix="/api/v1/reps", tags=["reps"])


@router.get(
    "", response_model=Page[RepOut], summary="List reps (a changes feed with updated_since)"
)
async def list_reps(
    who: ReadAccess,
    db: Reads,
    page: Pagination,
    active: bool | None = None,
    q: Annotated[str | None, Query(max_length=200, description="Name contains.")] = None,
) -> Response:
    """Reps of the account in (updated_at, id) order."""
    rows = await db.read(service.page_query(who, page=page, active=active, search=q))
    return service.LISTING.response(rows, limit=page.limit)


@router.get("/{rep_id}", summary="Get a rep")
async def get_rep(rep_id: uuid.UUID, who: ReadAccess, session: DbSession) -> RepOut:
    """One rep."""
    return RepOut.model_validate(await service.get(session, who, rep_id=rep_id))


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a rep")
async def create_rep(body: RepCreate, who: WriteAccess, session: DbSession) -> RepOut:
    """Add a rep to the account."""
    return RepOut.model_validate(await service.create(session, who, data=body))


@router.patch("/{rep_id}", summary="Update a rep")
async def update_rep(
    rep_id: uuid.UUID, body: RepUpdate, who: WriteAccess, session: DbSession
) -> RepOut:
    """Change the fields sent."""
    return RepOut.model_validate(await service.update(session, who, rep_id=rep_id, data=body))


@router.delete("/{rep_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove a rep")
async def remove_rep(rep_id: uuid.UUID, who: WriteAccess, session: DbSession) -> Response:
    """Soft-delete: the rep leaves its book, its accounts return to the pool, the feed shows it."""
    await service.remove(session, who, rep_id=rep_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
