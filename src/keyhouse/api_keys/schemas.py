"""What the API and the CLI show of keys (never the secret, except once on creation)."""

import uuid
from datetime import datetime, timedelta

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from keyhouse.api_keys.models import DEFAULT_LIFETIME_DAYS, AccessLevel, KeyKind
from keyhouse.kit.schemas import StrictInput


class ApiKeyOut(BaseModel):
    """A key as listed: name, hint, access, creator, dates and status."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    description: str | None = Field(description="What the key is for, in its creator's words.")
    hint: str
    kind: KeyKind
    access_level: AccessLevel
    created_by_user_id: uuid.UUID | None
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    rate_limit: str | None = Field(
        description="Requests this key may make, e.g. `1200/minute`; null: the service default."
    )
    status: str
    expires_soon: bool = Field(description="Still working, but expires within 7 days.")
    rolled_from_id: uuid.UUID | None = Field(description="The key this one replaced, if rolled.")
    revoked_reason: str | None = Field(
        description="Why it was revoked when not by hand, e.g. `found public at <url>`."
    )


class CreatedApiKey(ApiKeyOut):
    """A key just created, with its secret: shown this once and never again."""

    secret: str


class ListedApiKey(ApiKeyOut):
    """A key as the admin list shows it, with its creator's email."""

    created_by: str | None


class RolledApiKey(CreatedApiKey):
    """The replacement of a rolled key, with its secret (shown once) and the old key's fate."""

    rolled_from: uuid.UUID
    old_expires_at: datetime


class NewApiKey(StrictInput):
    """Create API Key: a name, an access level and an expiry (90 days unless said otherwise).

    Give `expires_at` or `expires_in_days`, not both; `null` in either means never.
    """

    name: str = Field(min_length=1, max_length=100, examples=["Data Sync Script"])
    description: str | None = Field(
        default=None, max_length=500, examples=["Nightly export to the data warehouse"]
    )
    access_level: AccessLevel
    expires_in_days: int | None = Field(default=DEFAULT_LIFETIME_DAYS, ge=1, le=3650, examples=[90])
    expires_at: AwareDatetime | None = Field(default=None, examples=["2027-03-01T00:00:00Z"])
    rate_limit: str | None = Field(default=None, max_length=32, examples=["1200/minute"])

    @model_validator(mode="after")
    def _one_expiry(self) -> "NewApiKey":
        if {"expires_at", "expires_in_days"} <= self.model_fields_set:
            raise ValueError("give expires_at or expires_in_days, not both")
        return self

    def expiry(self, now: datetime) -> datetime | None:
        """When the key expires, counted from `now`; None: never."""
        if "expires_at" in self.model_fields_set:
            return self.expires_at
        return None if self.expires_in_days is None else now + timedelta(days=self.expires_in_days)


class RollApiKey(StrictInput):
    """Roll a key: how long the old key keeps working, 0 (now) to 7 days."""

    expire_old_in_seconds: int = Field(ge=0, le=7 * 86400, examples=[3600])


class KeyRateLimit(StrictInput):
    """Set a key's request limit; null returns it to the service default."""

    rate_limit: str | None = Field(max_length=32, examples=["1200/minute"])
