"""A target book: a segment of accounts, a capacity per rep, and the reps who work it."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, and_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from keyhouse.kit.orm import Base, IdMixin, TimestampsMixin
from keyhouse.reps.models import Rep


class TargetBook(IdMixin, TimestampsMixin, Base):
    """A book; `criteria` is a JSON list of conditions, members are reps pointing at it."""

    __tablename__ = "target_books"
    __table_args__ = (Index("ix_target_books_feed", "account_id", "updated_at", "id"),)

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    max_capacity: Mapped[int]
    criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    deleted_at: Mapped[datetime | None]

    # Loaded with the book (selectin), so async code never triggers a lazy load.
    members: Mapped[list[Rep]] = relationship(
        Rep,
        primaryjoin=lambda: and_(Rep.target_book_id == TargetBook.id, Rep.deleted_at.is_(None)),
        foreign_keys=lambda: [Rep.target_book_id],
        order_by=lambda: (Rep.name, Rep.id),
        viewonly=True,
        lazy="selectin",
    )

    @property
    def rep_ids(self) -> list[uuid.UUID]:
        """The member reps' ids, by name."""
        return [rep.id for rep in self.members]
