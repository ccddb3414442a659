"""Ownership changes as the API shows them."""

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from keyhouse.ownership.models import ChangeReason


class OwnershipChangeOut(BaseModel):
    """One move of an account: from (null = pool), to (null = pool), when, why, by whom."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    crm_account_id: uuid.UUID
    from_rep_id: uuid.UUID | None
    to_rep_id: uuid.UUID | None
    reason: ChangeReason
    distribution_id: uuid.UUID | None
    retrieval_id: uuid.UUID | None
    actor: str
    actor_key_id: uuid.UUID | None
    changed_at: datetime
    updated_at: datetime
