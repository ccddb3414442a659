"""REST endpoints of CRM accounts: /api/v1/accounts."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from keyhouse.auth.dependencies import ReadAccess, WriteAccess
from keyhouse.crm_accounts import service
from keyhouse.crm_accounts.repository import CrmAccountFilters
from keyhouse.crm_accounts.schemas import CrmAccountCreate, CrmAccountOut, CrmAccountUpdate
from keyhouse.db import DbSession, Reads
from keyhouse.kit.pagination import Page, Pagination
from keyhouse.ownership import service as ownership
from keyhouse.ownership.schemas import OwnershipChangeOut

router = APIRouter(prefix="/api/v1/accounts", tags=["accounts"])


@router.get(
    "",
    response_model=Page[CrmAccountOut],
    summary="List accounts (a changes feed with updated_since)",
)
async def list_accounts(
    who: ReadAccess,
    db: Reads,
    page: Pagination,
    owner_rep_id: uuid.UUID | None = None,
    in_pool: Annotated[bool | None, Query(description="true: unowned accounts only.")] = None,
    industry: Annotated[str | None, Query(max_length=100)] = None,
    region: Annotated[str | None, Query(max_length=100)] = None,
    tier: Annotated[int | None, Query(ge=1, le=5)] = None,
    min_fit_score: Annotated[int | None, Query(ge=0, le=100)] = None,
    q: Annotated[str | None, Query(max_length=200, description="Name contains.")] = None,
) -> Response:
    """Accounts of the workspace in (updated_at, id) order."""
    filters = CrmAccountFilters(
        owner_rep_id=owner_rep_id,
        in_pool=in_pool,
        industry=industry,
        region=region,
        tier=tier,
        min_fit_score=min_fit_score,
        search=q,
    )
    rows = await db.read(service.page_query(who, page=page, filters=filters))
    return service.LISTING.response(rows, limit=page.limit)


@router.get("/{account_id}", summary="Get an account")
async def get_account(account_id: uuid.UUID, who: ReadAccess, session: DbSession) -> CrmAccountOut:
    """One account."""
    found = await service.get(session, who, crm_account_id=account_id)
    return CrmAccountOut.model_validate(found)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create an account")
async def create_account(
    body: CrmAccountCreate, who: WriteAccess, session: DbSession
) -> CrmAccountOut:
    """Add an account (to the pool unless `owner_rep_id` is given)."""
    return CrmAccountOut.model_validate(await service.create(session, who, data=body))


@router.patch("/{account_id}", summary="Update an account (fields or owner)")
async def update_account(
    account_id: uuid.UUID, body: CrmAccountUpdate, who: WriteAccess, session: DbSession
) -> CrmAccountOut:
    """Change the fields sent; `owner_rep_id: null` returns the account to the pool."""
    updated = await service.update(session, who, crm_account_id=account_id, data=body)
    return CrmAccountOut.model_validate(updated)


@router.delete("/{account_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove an account")
async def remove_account(account_id: uuid.UUID, who: WriteAccess, session: DbSession) -> Response:
    """Soft-delete: the account leaves lists; the changes feed shows it with `deleted_at`."""
    await service.remove(session, who, crm_account_id=account_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{account_id}/history",
    response_model=Page[OwnershipChangeOut],
    summary="Ownership history of an account",
)
async def get_account_history(
    account_id: uuid.UUID, who: ReadAccess, session: DbSession, page: Pagination
) -> Response:
    """Every change of owner, oldest first: from, to, why, when and by which key."""
    query = await service.history_query(session, who, crm_account_id=account_id, page=page)
    rows = await query.rows(session)
    return ownership.LISTING.response(rows, limit=page.limit)
