"""A retrieval: accounts taken back from reps to the pool, by criteria, as one recorded run."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from keyhouse.kit.orm import Base, IdMixin, TimestampsMixin


class Retrieval(IdMixin, TimestampsMixin, Base):
    """A retrieval that ran: what it asked for, how many accounts moved, when and by whom."""

    __tablename__ = "retrievals"
    __table_args__ = (Index("ix_retrievals_feed", "account_id", "updated_at", "id"),)

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    from_rep_ids: Mapped[list[str] | None] = mapped_column(JSON)
    from_book_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("target_books.id"))
    criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    ranking: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    max_accounts: Mapped[int | None]
    moved_count: Mapped[int] = mapped_column(default=0)
    ran_at: Mapped[datetime]
    ran_by_key_id: Mapped[uuid.UUID | None]
