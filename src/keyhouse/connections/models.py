"""An MCP connection: an assistant a user authorized, backed by a key of kind mcp_connection."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from keyhouse.api_keys.models import AccessLevel
from keyhouse.kit.orm import Base, IdMixin, enum_column, utcnow


class Connection(IdMixin, Base):
    """One user's grant to one assistant. `last_used_at` lives on the backing key."""

    __tablename__ = "connections"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    api_key_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("api_keys.id"), unique=True)
    client_id: Mapped[str] = mapped_column(String(2048))
    client_name: Mapped[str] = mapped_column(String(200))
    redirect_host: Mapped[str] = mapped_column(String(255))
    granted_access: Mapped[AccessLevel] = mapped_column(enum_column(AccessLevel))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(64))
