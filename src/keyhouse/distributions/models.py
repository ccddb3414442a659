"""A distribution: accounts from the pool or a rep, dealt to recipients in ranking order."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from keyhouse.kit.orm import Base, IdMixin, TimestampsMixin, enum_column


class DistributionType(StrEnum):
    """`fixed_per_rep`: N accounts each; `top_off`: fill each rep up to its book's capacity."""

    FIXED_PER_REP = "fixed_per_rep"
    TOP_OFF = "top_off"


class DistributionStatus(StrEnum):
    """A draft runs once: `draft` → `running` (inside the run's transaction) → `completed`."""

    DRAFT = "draft"
    RUNNING = "running"
    COMPLETED = "completed"


class Distribution(IdMixin, TimestampsMixin, Base):
    """A planned (then run) move of accounts; recipients are listed reps or a book's reps."""

    __tablename__ = "distributions"
    __table_args__ = (Index("ix_distributions_feed", "account_id", "updated_at", "id"),)

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[DistributionType] = mapped_column(enum_column(DistributionType))
    status: Mapped[DistributionStatus] = mapped_column(
        enum_column(DistributionStatus), default=DistributionStatus.DRAFT
    )
    source_rep_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("reps.id"))
    recipient_rep_ids: Mapped[list[str] | None] = mapped_column(JSON)
    recipient_book_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("target_books.id"))
    criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    ranking: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    amount_per_rep: Mapped[int | None]
    set_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by_key_id: Mapped[uuid.UUID | None]
    ran_at: Mapped[datetime | None]
    ran_by_key_id: Mapped[uuid.UUID | None]
    moved_count: Mapped[int] = mapped_column(default=0)

    @property
    def recipient_reps(self) -> list[uuid.UUID] | None:
        """The listed recipient reps in the order given, or None for a book's reps."""
        if self.recipient_rep_ids is None:
            return None
        return [uuid.UUID(rep_id) for rep_id in self.recipient_rep_ids]
