"""An API key: a long-lived credential of an account, stored only as a keyed hash."""

import uuid
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from keyhouse.kit.orm import Base, IdMixin, enum_column, utcnow

# New keys expire unless their creator says otherwise, as GitHub's tokens do.
DEFAULT_LIFETIME_DAYS = 90
# Keys that stop working within this window are flagged in lists and on the Workspace page.
EXPIRES_SOON = timedelta(days=7)


class AccessLevel(StrEnum):
    """The same two words in the UI, the API and the docs."""

    READ_ONLY = "read_only"
    FULL_ACCESS = "full_access"


class KeyKind(StrEnum):
    """Who holds the key: a script, or an assistant through an MCP connection."""

    API_KEY = "api_key"
    MCP_CONNECTION = "mcp_connection"


class ApiKey(IdMixin, Base):
    """A key of an account; `secret_hash` is HMAC-SHA-256 of the secret, never the secret."""

    __tablename__ = "api_keys"
    __table_args__ = (UniqueConstraint("account_id", "request_id"),)

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[KeyKind] = mapped_column(enum_column(KeyKind), default=KeyKind.API_KEY)
    access_level: Mapped[AccessLevel] = mapped_column(enum_column(AccessLevel))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(16))
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    # Where the last use came from, written with last_used_at (api_keys/usage.py).
    last_used_ip: Mapped[str | None] = mapped_column(String(45))
    last_used_user_agent: Mapped[str | None] = mapped_column(String(512))
    # Requests allowed to this key, e.g. "1200/minute"; None: the service default.
    rate_limit: Mapped[str | None] = mapped_column(String(32))
    # The key this one replaced when it was rolled.
    rolled_from_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("api_keys.id"))
    # Why it was revoked when an admin did not do it by hand, e.g. "found public at <url>".
    revoked_reason: Mapped[str | None] = mapped_column(String(2100))
    # What the key is for, in the admin's words; optional.
    description: Mapped[str | None] = mapped_column(String(500))
    # The create form's one-time id: a reload or a second click finds this key, not a new one.
    request_id: Mapped[str | None] = mapped_column(String(64))

    def is_usable(self, now: datetime) -> bool:
        """Neither revoked nor expired at `now`."""
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    @property
    def status(self) -> str:
        """`active`, `expired` or `revoked`, as shown in lists."""
        if self.revoked_at is not None:
            return "revoked"
        return "active" if self.is_usable(utcnow()) else "expired"

    @property
    def expires_soon(self) -> bool:
        """Usable now, but not in `EXPIRES_SOON` (7 days)."""
        now = utcnow()
        soon = self.expires_at is not None and self.expires_at <= now + EXPIRES_SOON
        return soon and self.is_usable(now)
