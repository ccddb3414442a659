"""Recording who did what to access; every create and revoke calls `record`."""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.audit import repository
from keyhouse.audit.models import AuditEvent


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did it: a signed-in user, a key, or an operator at the command line."""

    label: str
    user_id: uuid.UUID | None = None
    key_id: uuid.UUID | None = None


COMMAND_LINE = Actor(label="command line")


def record(
    session: AsyncSession,
    actor: Actor,
    *,
    account_id: uuid.UUID,
    action: str,
    subject_id: uuid.UUID | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append an event to the audit log in the caller's transaction (never a secret)."""
    repository.add(
        session,
        AuditEvent(
            account_id=account_id,
            action=action,
            actor=actor.label,
            actor_user_id=actor.user_id,
            actor_key_id=actor.key_id,
            subject_id=subject_id,
            details=details or {},
        ),
    )
