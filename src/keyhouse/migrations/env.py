"""Alembic environment: runs migrations on the configured database with the async engine."""

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from keyhouse.config import Settings
from keyhouse.db import create_engine
from keyhouse.models import Base

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    settings = context.config.attributes.get("settings") or Settings()
    engine = create_engine(settings)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


asyncio.run(_run_online())
