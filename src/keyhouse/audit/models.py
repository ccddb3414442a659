"""The audit log: append-only records of who changed access, and when."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from keyhouse.kit.orm import Base, IdMixin, utcnow


class AuditEvent(IdMixin, Base):
    """One event; a database trigger refuses UPDATE and DELETE on this table."""

    __tablename__ = "audit_events"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(320))
    actor_user_id: Mapped[uuid.UUID | None]
    actor_key_id: Mapped[uuid.UUID | None]
    subject_id: Mapped[uuid.UUID | None]
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
