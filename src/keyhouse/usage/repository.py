"""SQL of usage counts: add a batch (upsert), read a key's days; scoped by account."""

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.usage.models import KeyUsageDay

COUNTS = ("ok", "errors", "rate_limited")


async def add_counts(session: AsyncSession, rows: Sequence[dict[str, object]]) -> None:
    """Add each row's counts to its (key, day), creating the row if needed.

    Rows go in key and day order, so two instances adding overlapping batches take row
    locks in the same order and never deadlock.
    """
    if not rows:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    insert = dialect.insert(KeyUsageDay)
    statement = insert.on_conflict_do_update(
        index_elements=[KeyUsageDay.api_key_id, KeyUsageDay.day],
        set_={name: getattr(KeyUsageDay, name) + insert.excluded[name] for name in COUNTS},
    )
    ordered = sorted(rows, key=lambda row: (str(row["api_key_id"]), str(row["day"])))
    await session.execute(statement, ordered)


async def days_of_key(
    session: AsyncSession, *, account_id: uuid.UUID, key_id: uuid.UUID, since: date
) -> Sequence[KeyUsageDay]:
    """The key's counted days from `since` on, oldest first (days without requests have no row)."""
    query = (
        select(KeyUsageDay)
        .where(
            KeyUsageDay.account_id == account_id,
            KeyUsageDay.api_key_id == key_id,
            KeyUsageDay.day >= since,
        )
        .order_by(KeyUsageDay.day)
    )
    return (await session.scalars(query)).all()
