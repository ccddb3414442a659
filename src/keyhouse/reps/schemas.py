"""Reps as the API reads and writes them."""

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from keyhouse.kit.emails import Email
from keyhouse.kit.schemas import PatchInput, StrictInput

Name = Field(min_length=1, max_length=200)


class RepCreate(StrictInput):
    """A new rep."""

    name: str = Name
    email: Email
    active: bool = True


class RepUpdate(PatchInput):
    """Fields to change; absent fields stay as they are."""

    NOT_NULL = frozenset({"name", "email", "active"})

    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: Email | None = None
    active: bool | None = None


class RepOut(BaseModel):
    """A rep; `deleted_at` is set on removed reps, which the changes feed still shows."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    email: str
    active: bool
    target_book_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
