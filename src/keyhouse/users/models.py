"""A user: a person who signs in to one account with a role."""

import uuid
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from keyhouse.kit.orm import Base, IdMixin, TimestampsMixin, enum_column


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
