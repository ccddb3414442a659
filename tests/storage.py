"""Looking into the database the way an attacker with a dump would."""

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
