"""SQL of the audit log: insert and read, never update or delete."""

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.audit.models import AuditEvent


def add(session: AsyncSession, event: AuditEvent) -> None:
    """Queue an event for insert in the current transaction."""
    session.add(event)


async def list_for_account(
    session: AsyncSession, *, account_id: uuid.UUID, limit: int = 100
) -> Sequence[AuditEvent]:
    """The newest events of an account."""
    query = (
        select(AuditEvent)
        .where(AuditEvent.account_id == account_id)
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    return (await session.scalars(query)).all()
