"""Usage of a key or a connection over the last days, every day present (zero when idle)."""

import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.api_keys import service as api_keys
from keyhouse.api_keys.models import ApiKey
from keyhouse.auth.principal import Principal
from keyhouse.connections import service as connections
from keyhouse.usage import repository
from keyhouse.usage.models import KeyUsageDay
from keyhouse.usage.schemas import UsageDayOut, UsageOut

MAX_DAYS = 366


async def of_api_key(
    session: AsyncSession, *, account_id: uuid.UUID, key_id: uuid.UUID, days: int
) -> UsageOut:
    """An API key's last `days` days (NotFound for a connection's key or another account's)."""
    key = await api_keys.get_api_key(session, account_id=account_id, key_id=key_id)
    return await of_key(session, key, days=days)


async def of_connection(
    session: AsyncSession, who: Principal, *, connection_id: uuid.UUID, days: int
) -> UsageOut:
    """A connection's last `days` days, for an admin or the connection's own user."""
    view = await connections.get_visible_view(session, who, connection_id=connection_id)
    return await of_key(session, view.key, days=days)


async def of_key(session: AsyncSession, key: ApiKey, *, days: int) -> UsageOut:
    """The backing key's counts from `days - 1` days ago to today (UTC), and its last use."""
    today = datetime.now(UTC).date()
    first = today - timedelta(days=days - 1)
    stored = await repository.days_of_key(
        session, account_id=key.account_id, key_id=key.id, since=first
    )
    by_day = {row.day: row for row in stored}
    return UsageOut(
        data=[_day(first + timedelta(days=offset), by_day) for offset in range(days)],
        last_used_at=key.last_used_at,
        last_used_ip=key.last_used_ip,
        last_used_user_agent=key.last_used_user_agent,
    )


def _day(day: date, by_day: dict[date, KeyUsageDay]) -> UsageDayOut:
    row = by_day.get(day)
    ok, errors, limited = (row.ok, row.errors, row.rate_limited) if row else (0, 0, 0)
    return UsageDayOut(
        date=day, requests=ok + errors + limited, ok=ok, errors=errors, rate_limited=limited
    )
