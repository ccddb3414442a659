"""A user: a person who signs in to one account with a role."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from keyhouse.kit.orm import Base, IdMixin, TimestampsMixin, enum_column, utcnow


class Role(StrEnum):
    """What a user may do; admins manage keys, connections and members."""

    ADMIN = "admin"
    MEMBER = "member"


class User(IdMixin, TimestampsMixin, Base):
    """A member of an account. Emails are unique across Keyhouse: they are the sign-in name."""

    __tablename__ = "users"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"), index=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    active: Mapped[bool] = mapped_column(default=True)

    @property
    def status(self) -> str:
        """`active`, `invited` (no password set yet) or `deactivated`, as shown in lists."""
        if not self.active:
            return "deactivated"
        return "active" if self.password_hash is not None else "invited"


class Invitation(IdMixin, Base):
    """A one-time link that lets a new user set a password; stored as a keyed hash."""

    __tablename__ = "invitations"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]

    def is_open(self, now: datetime) -> bool:
        """Neither used nor expired at `now`."""
        return self.accepted_at is None and self.expires_at > now
