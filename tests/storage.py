"""Looking into the database the way an attacker with a dump would."""

import hashlib

from sqlalchemy import String, Text, cast, select

from keyhouse.db import Database
from keyhouse.models import Base


async def database_contains(database: Database, needle: str) -> list[str]:
    """Every `table.column` where some row contains `needle` as text."""
    found = []
    async with database.sessions() as session:
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                text_value = cast(column, Text) if not isinstance(column.type, String) else column
                hit = await session.scalar(
                    select(column).where(text_value.contains(needle)).limit(1)
                )
                if hit is not None:
                    found.append(f"{table.name}.{column.name}")
    return found


# Written by reading, not by changing data: when and where from a key was last used.
VOLATILE_COLUMNS = {
    ("api_keys", "last_used_at"),
    ("api_keys", "last_used_ip"),
    ("api_keys", "last_used_user_agent"),
}
# Written by every running instance on its own schedule (leases, acknowledgements), and the
# record of use that every request adds to, refused ones included (usage, assistant activity).
INFRASTRUCTURE_TABLES = {"instances", "revocation_clock", "key_usage_days", "mcp_tool_calls"}


async def table_checksums(database: Database) -> dict[str, tuple[int, str]]:
    """Row count and a digest of every table's rows, in primary-key order."""
    sums = {}
    async with database.sessions() as session:
        for table in Base.metadata.sorted_tables:
            if table.name in INFRASTRUCTURE_TABLES:
                continue
            columns = [c for c in table.columns if (table.name, c.name) not in VOLATILE_COLUMNS]
            query = select(*columns).order_by(*table.primary_key.columns)
            rows = (await session.execute(query)).all()
            sums[table.name] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    return sums
