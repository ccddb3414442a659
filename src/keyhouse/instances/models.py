"""Server instances and the revocation clock: what strict cross-instance revocation stands on."""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger
from sqlalchemy.orm import Mapped, mapped_column

from keyhouse.kit.orm import Base, utcnow


class Instance(Base):
    """A running server process: its lease (database time) and the last revocation it applied."""

    __tablename__ = "instances"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime]
    acked_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class RevocationClock(Base):
    """One row: the number of the last committed revocation.

    A row, not a sequence: its row lock, held from the increment to the commit, makes the
    numbers follow commit order, the order in which PostgreSQL delivers notifications.
    """

    __tablename__ = "revocation_clock"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
