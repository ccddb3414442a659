"""An account: one customer workspace, the boundary of every query."""

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from keyhouse.kit.orm import Base, IdMixin, utcnow


class Account(IdMixin, Base):
    """A workspace; `slug` is its unique, human-typed handle."""

    __tablename__ = "accounts"

    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
