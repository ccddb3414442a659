"""Target books as the API reads and writes them, and the book report."""

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from keyhouse.crm_accounts.criteria import Condition
from keyhouse.kit.schemas import PatchInput, StrictInput

MAX_CAPACITY = 1_000_000
MAX_MEMBERS = 1000


class TargetBookCreate(StrictInput):
    """A new book."""

    name: str = Field(min_length=1, max_length=200)
    max_capacity: int = Field(ge=0, le=MAX_CAPACITY, description="Accounts per rep.")
    criteria: list[Condition] = Field(default_factory=list, max_length=50)
    rep_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_MEMBERS)


class TargetBookUpdate(PatchInput):
    """Fields to change; `rep_ids` replaces the member list."""

    NOT_NULL = frozenset({"name", "max_capacity", "criteria", "rep_ids"})

    name: str | None = Field(default=None, min_length=1, max_length=200)
    max_capacity: int | None = Field(default=None, ge=0, le=MAX_CAPACITY)
    criteria: list[Condition] | None = Field(default=None, max_length=50)
    rep_ids: list[uuid.UUID] | None = Field(default=None, max_length=MAX_MEMBERS)


class TargetBookOut(BaseModel):
    """A book; `deleted_at` is set on removed books, which the changes feed still shows."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    max_capacity: int
    criteria: list[Condition]
    rep_ids: list[uuid.UUID]
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None


CapacityStatus = Literal["over", "at", "under"]


class RepLoad(BaseModel):
    """How full one rep's book is."""

    rep_id: uuid.UUID
    name: str
    active: bool
    owned_accounts: int = Field(description="Every live account the rep owns.")
    matching_accounts: int = Field(description="Owned accounts that match the book's criteria.")
    capacity: int
    load_pct: float | None = Field(description="owned / capacity in %; null when capacity is 0.")
    status: CapacityStatus


class BookReport(BaseModel):
    """Per member rep: owned accounts, matching accounts, capacity, load and over/under."""

    book: TargetBookOut
    reps: list[RepLoad]
    total_owned: int
    total_capacity: int
    over_capacity: int
    under_capacity: int


def capacity_status(owned: int, capacity: int) -> CapacityStatus:
    """Over, at or under capacity."""
    if owned > capacity:
        return "over"
    return "at" if owned == capacity else "under"


def load_pct(owned: int, capacity: int | None) -> float | None:
    """Load in percent of capacity, one decimal; None without a positive capacity."""
    if not capacity:
        return None
    return round(100 * owned / capacity, 1)
