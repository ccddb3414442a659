"""The coverage report as the API shows it."""

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from keyhouse.target_books.schemas import CapacityStatus


class RepCoverage(BaseModel):
    """One rep: what it owns, against its book's capacity, and how much of it is stale."""

    rep_id: uuid.UUID
    name: str
    active: bool
    target_book_id: uuid.UUID | None
    owned_accounts: int
    capacity: int | None = Field(description="The rep's book capacity; null without a book.")
    load_pct: float | None
    status: CapacityStatus | None = Field(description="over / at / under; null without a book.")
    stale_accounts: int = Field(description="Owned accounts without activity in `stale_days`.")


class WorkspaceCoverage(BaseModel):
    """The whole workspace at a glance."""

    accounts_total: int
    accounts_owned: int
    accounts_in_pool: int
    unowned_high_fit: int = Field(description="Pool accounts with fit_score >= high_fit_score.")
    stale_accounts: int
    reps_active: int
    reps_over_capacity: int


class CoverageReport(BaseModel):
    """Per rep coverage and workspace totals, as of `generated_at`."""

    generated_at: datetime
    stale_days: int
    high_fit_score: int
    workspace: WorkspaceCoverage
    reps: list[RepCoverage]
