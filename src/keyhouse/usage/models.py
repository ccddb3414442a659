"""Requests of one key on one UTC day, by outcome; a connection's are its backing key's."""

import uuid
from datetime import date
from enum import StrEnum

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from keyhouse.kit.orm import Base


class Outcome(StrEnum):
    """How a request ended, as usage counts it."""

    OK = "ok"  # any status below 400
    ERRORS = "errors"  # 4xx and 5xx, except 429
    RATE_LIMITED = "rate_limited"  # 429


def outcome_of(status: int) -> Outcome:
    """The outcome of a response status."""
    if status < 400:
        return Outcome.OK
    return Outcome.RATE_LIMITED if status == 429 else Outcome.ERRORS


class KeyUsageDay(Base):
    """Counts only ever grow: every instance adds its batch to the row (an upsert)."""

    __tablename__ = "key_usage_days"

    api_key_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("api_keys.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"), index=True)
    ok: Mapped[int] = mapped_column(default=0)
    errors: Mapped[int] = mapped_column(default=0)
    rate_limited: Mapped[int] = mapped_column(default=0)
