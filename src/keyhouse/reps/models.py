"""A rep: a seller who owns accounts."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from keyhouse.kit.orm import Base, IdMixin, TimestampsMixin


class Rep(IdMixin, TimestampsMixin, Base):
    """A seller of the workspace; soft-deleted so the changes feed shows removals."""

    __tablename__ = "reps"
    __table_args__ = (
        UniqueConstraint("account_id", "email"),
        Index("ix_reps_feed", "account_id", "updated_at", "id"),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    active: Mapped[bool] = mapped_column(default=True)
    target_book_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("target_books.id"), index=True
    )
    deleted_at: Mapped[datetime | None]
