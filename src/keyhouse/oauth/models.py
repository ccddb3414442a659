"""OAuth state kept by the authorization server: clients, codes and tokens (secrets hashed)."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from keyhouse.kit.orm import Base, IdMixin, enum_column, utcnow


class OAuthClient(Base):
    """A registered client (RFC 7591) or a fetched Client ID Metadata Document (URL client id)."""

    __tablename__ = "oauth_clients"

    client_id: Mapped[str] = mapped_column(String(2048), primary_key=True)
    client_secret_hash: Mapped[str | None] = mapped_column(String(64))
    client_name: Mapped[str] = mapped_column(String(200))
    client_metadata: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    fetched_at: Mapped[datetime | None]


class OAuthCode(IdMixin, Base):
    """A single-use code issued on approval; a replay revokes the connection it created."""

    __tablename__ = "oauth_codes"

    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(String(2048))
    connection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("connections.id"))
    scopes: Mapped[str] = mapped_column(String(100))
    code_challenge: Mapped[str] = mapped_column(String(128))
    redirect_uri: Mapped[str] = mapped_column(String(2048))
    redirect_uri_provided_explicitly: Mapped[bool]
    resource: Mapped[str] = mapped_column(String(2048))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class TokenKind(StrEnum):
    """Access tokens call /mcp; refresh tokens only mint new pairs."""

    ACCESS = "access"
    REFRESH = "refresh"


class ConnectionToken(IdMixin, Base):
    """An access or refresh token of a connection, stored as a keyed hash."""

    __tablename__ = "oauth_tokens"

    connection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("connections.id"), index=True)
    kind: Mapped[TokenKind] = mapped_column(enum_column(TokenKind))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(100))
    resource: Mapped[str] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
