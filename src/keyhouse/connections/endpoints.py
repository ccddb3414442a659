"""/api/v1/connections: the Security page's connection actions over JSON, for signed-in users."""

import uuid

from fastapi import APIRouter

from keyhouse.auth.dependencies import AdminUser, SignedInUser
from keyhouse.connections import service
from keyhouse.connections.schemas import ConnectionOut
from keyhouse.db import DbSession

router = APIRouter(prefix="/api/v1/connections", tags=["connections (signed in)"])


@router.get("", summary="List MCP connections")
async def list_connections(db: DbSession, who: SignedInUser) -> list[ConnectionOut]:
    """Admins see every connection of the account; members see their own."""
    user_id = None if who.is_admin else who.user_id
    views = await service.list_connections(db, account_id=who.account_id, user_id=user_id)
    return [ConnectionOut.of(view) for view in views]


@router.post("/{connection_id}/disconnect", summary="Disconnect an MCP connection")
async def disconnect(connection_id: uuid.UUID, db: DbSession, who: AdminUser) -> ConnectionOut:
    """Revoke the connection's key and tokens; refused everywhere before this returns."""
    await service.disconnect(db, who.actor, account_id=who.account_id, connection_id=connection_id)
    view = await service.get_view(db, account_id=who.account_id, connection_id=connection_id)
    return ConnectionOut.of(view)
