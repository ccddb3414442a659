"""CRM accounts as the API reads and writes them."""

import uuid
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from keyhouse.kit.schemas import PatchInput


class CrmAccountFields(PatchInput):
    """The editable fields of an account, all optional."""

    domain: str | None = Field(default=None, max_length=253)
    industry: str | None = Field(default=None, max_length=100)
    region: str | None = Field(default=None, max_length=100)
    employees: int | None = Field(default=None, ge=0, le=10_000_000)
    annual_revenue: int | None = Field(default=None, ge=0, le=10**15)
    fit_score: int | None = Field(default=None, ge=0, le=100)
    tier: int | None = Field(default=None, ge=1, le=5)
    last_activity_at: AwareDatetime | None = None
    owner_rep_id: uuid.UUID | None = Field(
        default=None, description="The owning rep; null puts the account in the pool."
    )


class CrmAccountCreate(CrmAccountFields):
    """A new account."""

    name: str = Field(min_length=1, max_length=200)


class CrmAccountUpdate(CrmAccountFields):
    """Fields to change; absent fields stay as they are, and a null clears a field."""

    NOT_NULL = frozenset({"name"})

    name: str | None = Field(default=None, min_length=1, max_length=200)


class CrmAccountOut(BaseModel):
    """An account of the CRM; `owner_rep_id` null means it is in the pool."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    domain: str | None
    industry: str | None
    region: str | None
    employees: int | None
    annual_revenue: int | None
    fit_score: int | None
    tier: int | None
    last_activity_at: datetime | None
    owner_rep_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
