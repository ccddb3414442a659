"""Ownership history: one row per change of an account's owner rep, never updated."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from keyhouse.kit.orm import Base, IdMixin, TimestampsMixin, enum_column


class ChangeReason(StrEnum):
    """What moved the account."""

    DISTRIBUTION = "distribution"
    RETRIEVAL = "retrieval"
    MANUAL = "manual"
    IMPORT = "import"
    REP_REMOVED = "rep_removed"


class OwnershipChange(IdMixin, TimestampsMixin, Base):
    """An account moved from one owner (none = the pool) to another, by whom and why."""

    __tablename__ = "ownership_changes"
    __table_args__ = (
        Index("ix_ownership_changes_history", "account_id", "crm_account_id", "updated_at", "id"),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"), index=True)
    crm_account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("crm_accounts.id"))
    from_rep_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("reps.id"))
    to_rep_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("reps.id"))
    reason: Mapped[ChangeReason] = mapped_column(enum_column(ChangeReason))
    distribution_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("distributions.id"), index=True
    )
    retrieval_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("retrievals.id"), index=True)
    actor: Mapped[str] = mapped_column(String(320))
    actor_key_id: Mapped[uuid.UUID | None]

    @property
    def changed_at(self) -> datetime:
        """When the account moved."""
        return self.created_at
