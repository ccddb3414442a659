"""/api/v1/api-keys/{id}/usage and /api/v1/connections/{id}/usage: requests per day."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from keyhouse.auth.dependencies import AdminUser, SignedInUser
from keyhouse.db import DbSession
from keyhouse.usage import service
from keyhouse.usage.schemas import UsageOut

router = APIRouter(prefix="/api/v1", tags=["usage (signed in)"])

Days = Annotated[int, Query(ge=1, le=service.MAX_DAYS, description="How many days, up to today.")]


@router.get("/api-keys/{key_id}/usage", summary="An API key's requests per day")
async def api_key_usage(
    key_id: uuid.UUID, db: DbSession, who: AdminUser, days: Days = 30
) -> UsageOut:
    """Requests per UTC day by outcome, oldest first, and where the key was last used from."""
    return await service.of_api_key(db, account_id=who.account_id, key_id=key_id, days=days)


@router.get("/connections/{connection_id}/usage", summary="A connection's requests per day")
async def connection_usage(
    connection_id: uuid.UUID, db: DbSession, who: SignedInUser, days: Days = 30
) -> UsageOut:
    """Admins see any connection of the account; a member only their own (others are 404)."""
    return await service.of_connection(db, who, connection_id=connection_id, days=days)
