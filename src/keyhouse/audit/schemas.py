"""What the audit log API shows."""

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditEventOut(BaseModel):
    """One recorded change of access."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    occurred_at: datetime
    action: str
    actor: str
    actor_user_id: uuid.UUID | None
    actor_key_id: uuid.UUID | None
    subject_id: uuid.UUID | None
    details: dict[str, Any]
