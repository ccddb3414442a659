"""Usage as the API shows it: one entry per day, days without requests included."""

import datetime

from pydantic import BaseModel, Field


class UsageDayOut(BaseModel):
    """One UTC day of a key's or a connection's requests."""

    date: datetime.date
    requests: int = Field(description="Every request that day: ok + errors + rate_limited.")
    ok: int = Field(description="Answered with a status below 400.")
    errors: int = Field(description="Answered 4xx or 5xx, except 429.")
    rate_limited: int = Field(description="Refused by a rate limit (429).")


class UsageOut(BaseModel):
    """Requests per day, oldest first, and where the credential was last used from."""

    data: list[UsageDayOut]
    last_used_at: datetime.datetime | None
    last_used_ip: str | None
    last_used_user_agent: str | None
