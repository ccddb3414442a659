"""Retrievals as the API reads and writes them."""

import uuid
from datetime import datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from keyhouse.crm_accounts.criteria import Condition, SortKey
from keyhouse.distributions.schemas import PlannedMove
from keyhouse.kit.schemas import StrictInput


class RetrievalSpec(StrictInput):
    """Which accounts go back to the pool: from whom, matching what, in which order, how many."""

    name: str = Field(default="Retrieval", min_length=1, max_length=200)
    from_rep_ids: list[uuid.UUID] | None = Field(default=None, min_length=1, max_length=1000)
    from_book_id: uuid.UUID | None = Field(
        default=None, description="Or: every rep of this book. Neither: every rep."
    )
    criteria: list[Condition] = Field(default_factory=list, max_length=50)
    ranking: list[SortKey] = Field(default_factory=list, max_length=10)
    max_accounts: int | None = Field(default=None, ge=1, le=10_000_000)

    @model_validator(mode="after")
    def _bounded(self) -> Self:
        if self.from_rep_ids is not None and self.from_book_id is not None:
            raise ValueError("from_rep_ids: give from_rep_ids or from_book_id, not both")
        everyone = self.from_rep_ids is None and self.from_book_id is None
        if everyone and not self.criteria:
            raise ValueError("criteria: give at least one condition to retrieve from every rep")
        return self


class RepLoss(BaseModel):
    """How many accounts one rep gives back."""

    rep_id: uuid.UUID
    name: str
    loses: int


class RetrievalPlan(BaseModel):
    """Which accounts would go (a preview) or went (a run) back to the pool."""

    moves_total: int
    reps: list[RepLoss]
    moves: list[PlannedMove]
    moves_truncated: bool


class RetrievalOut(BaseModel):
    """A retrieval that ran."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    from_rep_ids: list[uuid.UUID] | None
    from_book_id: uuid.UUID | None
    criteria: list[Condition]
    ranking: list[SortKey]
    max_accounts: int | None
    moved_count: int
    ran_at: datetime
    ran_by_key_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


class RetrievalRunOut(BaseModel):
    """The recorded retrieval and what it moved."""

    retrieval: RetrievalOut
    plan: RetrievalPlan
