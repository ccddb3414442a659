"""CSV rows of reps and accounts, and what an import reports."""

import uuid

from pydantic import BaseModel, Field, ValidationError

from keyhouse.crm_accounts.schemas import CrmAccountCreate
from keyhouse.kit.emails import Email
from keyhouse.reps.schemas import RepCreate

ACCOUNT_EXPORT_COLUMNS = (
    "id",
    "name",
    "domain",
    "industry",
    "region",
    "employees",
    "annual_revenue",
    "fit_score",
    "tier",
    "last_activity_at",
    "owner_rep_id",
    "owner_email",
    "created_at",
    "updated_at",
)
# Exported for reference, ignored on import, so that an export imports back as it is.
ACCOUNT_READ_ONLY_COLUMNS = frozenset({"created_at", "updated_at"})
# The stored fields a line sets, compared with the stored account to skip unchanged lines.
ACCOUNT_FIELDS = tuple(CrmAccountCreate.model_fields)
REP_COLUMNS = ("name", "email", "active")


class AccountRow(CrmAccountCreate):
    """One account line: `id` updates that account, no `id` creates one; owner by email or id."""

    id: uuid.UUID | None = None
    owner_email: Email | None = None


class RepRow(RepCreate):
    """One rep line; a rep whose email exists is updated."""


class RowError(BaseModel):
    """A line that could not be imported, and why."""

    line: int
    reason: str
    values: dict[str, str] = Field(default_factory=dict, exclude=True)


class ImportReport(BaseModel):
    """What an import did, line by line: each line is created, updated, unchanged or rejected.

    `unchanged` lines matched the stored record and wrote nothing (no `updated_at` moved);
    `errors` lists the rejected lines (with --skip-invalid).
    """

    created: int
    updated: int
    unchanged: int
    rejected: int
    errors: list[RowError]


def validation_reason(error: ValidationError) -> str:
    """A pydantic error as one short sentence naming each field."""
    parts = []
    for problem in error.errors():
        field = ".".join(str(part) for part in problem["loc"]) or "line"
        parts.append(f"{field}: {problem['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)
