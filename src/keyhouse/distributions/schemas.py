"""Distributions as the API reads and writes them, and what a preview or run reports."""

import uuid
from datetime import datetime
from typing import Any, Literal, Self

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator

from keyhouse.crm_accounts.criteria import Condition, SortKey
from keyhouse.crm_accounts.schemas import CrmAccountFields
from keyhouse.distributions.models import DistributionStatus, DistributionType
from keyhouse.kit.schemas import StrictInput

MAX_RECIPIENTS = 1000
MAX_AMOUNT_PER_REP = 100_000


class MovedAccountFields(CrmAccountFields):
    """Fields to set on every account a distribution moves (the owner is the distribution's)."""

    @model_validator(mode="after")
    def _no_owner(self) -> Self:
        if "owner_rep_id" in self.model_fields_set:
            raise ValueError("owner_rep_id: the distribution sets the owner")
        return self


class DistributionCreate(StrictInput):
    """A new draft distribution."""

    name: str = Field(min_length=1, max_length=200)
    type: DistributionType
    source_rep_id: uuid.UUID | None = Field(
        default=None, description="Take accounts from this rep; null takes them from the pool."
    )
    recipient_rep_ids: list[uuid.UUID] | None = Field(
        default=None, min_length=1, max_length=MAX_RECIPIENTS, description="Reps, in deal order."
    )
    recipient_book_id: uuid.UUID | None = Field(
        default=None, description="Or: every rep of this target book (by name)."
    )
    criteria: list[Condition] = Field(default_factory=list, max_length=50)
    ranking: list[SortKey] = Field(default_factory=list, max_length=10)
    amount_per_rep: int | None = Field(default=None, ge=1, le=MAX_AMOUNT_PER_REP)
    set_fields: MovedAccountFields | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.recipient_rep_ids is None) == (self.recipient_book_id is None):
            raise ValueError("recipient_rep_ids: give recipient_rep_ids or recipient_book_id")
        if self.type is DistributionType.FIXED_PER_REP and self.amount_per_rep is None:
            raise ValueError("amount_per_rep: required for a fixed_per_rep distribution")
        if self.type is DistributionType.TOP_OFF and self.amount_per_rep is not None:
            raise ValueError("amount_per_rep: top_off fills up to capacity; leave it out")
        if self.source_rep_id is not None and self.source_rep_id in (self.recipient_rep_ids or []):
            raise ValueError("recipient_rep_ids: the source rep cannot also be a recipient")
        return self


class DistributionOut(BaseModel):
    """A distribution and, once run, when, by which key and how many accounts moved."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    type: DistributionType
    status: DistributionStatus
    source_rep_id: uuid.UUID | None
    # The first alias names the field in JSON schemas; the second reads the model's attribute.
    recipient_rep_ids: list[uuid.UUID] | None = Field(
        validation_alias=AliasChoices("recipient_rep_ids", "recipient_reps")
    )
    recipient_book_id: uuid.UUID | None
    criteria: list[Condition]
    ranking: list[SortKey]
    amount_per_rep: int | None
    set_fields: dict[str, Any]
    created_by_key_id: uuid.UUID | None
    ran_at: datetime | None
    ran_by_key_id: uuid.UUID | None
    moved_count: int
    created_at: datetime
    updated_at: datetime


SkipReason = Literal["inactive", "deleted", "at_capacity", "no_target_book", "source_rep"]


class RecipientPlan(BaseModel):
    """What one recipient gets, or why it gets nothing."""

    rep_id: uuid.UUID
    name: str | None
    active: bool
    capacity: int | None = Field(description="The rep's target book capacity; null without one.")
    current_load: int = Field(description="Live accounts the rep owns now.")
    quota: int = Field(description="How many it may receive in this distribution.")
    receives: int
    skipped: SkipReason | None = Field(description="Why the rep receives nothing, if it doesn't.")
    short_by: int = Field(description="quota - receives: the candidates ran out.")


class PlannedMove(BaseModel):
    """One account that moves: in ranking order (`rank` 1 first), from and to."""

    rank: int
    crm_account_id: uuid.UUID
    account_name: str
    from_rep_id: uuid.UUID | None
    to_rep_id: uuid.UUID | None


class DistributionPlan(BaseModel):
    """Which accounts would move to whom (a preview) or moved (a run)."""

    distribution_id: uuid.UUID | None
    moves_total: int
    recipients: list[RecipientPlan]
    moves: list[PlannedMove]
    moves_truncated: bool = Field(description="True when `moves` lists only the first ones.")


class DistributionRunOut(BaseModel):
    """The distribution after its run, with what each recipient received."""

    distribution: DistributionOut
    plan: DistributionPlan
