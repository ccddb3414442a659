"""Connections as the admin JSON API lists them."""

import uuid
from datetime import datetime

from pydantic import BaseModel

from keyhouse.api_keys.models import AccessLevel
from keyhouse.connections.service import ConnectionView


class ConnectionOut(BaseModel):
    """An assistant's connection: who, which client, the access granted and the access now."""

    id: uuid.UUID
    user_email: str
    client_name: str
    client_id: str
    redirect_host: str
    granted_access: AccessLevel
    effective_access: AccessLevel
    capped_to_read_only: bool
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    revoked_reason: str | None

    @classmethod
    def of(cls, view: ConnectionView) -> "ConnectionOut":
        """The listing form of a connection."""
        connection = view.connection
        return cls(
            id=connection.id,
            user_email=view.user.email,
            client_name=connection.client_name,
            client_id=connection.client_id,
            redirect_host=connection.redirect_host,
            granted_access=connection.granted_access,
            effective_access=view.effective_access,
            capped_to_read_only=view.is_capped,
            created_at=connection.created_at,
            last_used_at=view.key.last_used_at,
            revoked_at=connection.revoked_at,
            revoked_reason=connection.revoked_reason,
        )
