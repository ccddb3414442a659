"""What the API and the CLI show of keys (never the secret, except once on creation)."""

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from keyhouse.api_keys.models import AccessLevel, KeyKind
from keyhouse.kit.schemas import StrictInput


class ApiKeyOut(BaseModel):
    """A key as listed: name, hint, access, creator, dates and status."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
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


class CreatedApiKey(ApiKeyOut):
    """A key just created, with its secret: shown this once and never again."""

    secret: str


class ListedApiKey(ApiKeyOut):
    """A key as the admin list shows it, with its creator's email."""

    created_by: str | None


class NewApiKey(StrictInput):
    """Create API Key: a name, an access level and an optional expiry."""

    name: str = Field(min_length=1, max_length=100, examples=["Data Sync Script"])
    access_level: AccessLevel
    expires_in_days: int | None = Field(default=None, ge=1, le=3650, examples=[90])
    rate_limit: str | None = Field(default=None, max_length=32, examples=["1200/minute"])


class KeyRateLimit(StrictInput):
    """Set a key's request limit; null returns it to the service default."""

    rate_limit: str | None = Field(max_length=32, examples=["1200/minute"])
