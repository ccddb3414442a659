"""A CRM account: a company a rep sells to (not to be confused with a Keyhouse account)."""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from keyhouse.kit.orm import Base, IdMixin, TimestampsMixin


class CrmAccount(IdMixin, TimestampsMixin, Base):
    """A company in the CRM; no owner rep means it sits in the account pool."""

    __tablename__ = "crm_accounts"
    __table_args__ = (Index("ix_crm_accounts_feed", "account_id", "updated_at", "id"),)

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    domain: Mapped[str | None] = mapped_column(String(253))
    industry: Mapped[str | None] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100))
    employees: Mapped[int | None]
    annual_revenue: Mapped[int | None] = mapped_column(BigInteger)
    fit_score: Mapped[int | None]
    tier: Mapped[int | None]
    last_activity_at: Mapped[datetime | None]
    owner_rep_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("reps.id"), index=True)
    deleted_at: Mapped[datetime | None]
