"""Throw-away databases for a benchmark: an embedded SQLite file, or a PostgreSQL database."""

import asyncio
import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg

from keyhouse.config import Settings
from keyhouse.db import upgrade_to_head

POSTGRES_ADMIN_DSN = os.environ.get(
    "KEYHOUSE_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
KINDS = ("sqlite", "postgresql")


def admin_dsn() -> str:
    """The PostgreSQL server the benchmark creates its database on, without a password."""
    return POSTGRES_ADMIN_DSN.split("@")[-1]


async def _postgres(statement: str) -> None:
    """Run one statement on the admin database."""
    connection = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def postgres_problem() -> str | None:
    """Why the benchmark's PostgreSQL server cannot be used, or None when it answers."""
    try:
        asyncio.run(_postgres("SELECT 1"))
    except (OSError, asyncpg.PostgresError) as error:
        return f"{admin_dsn()}: {type(error).__name__}: {error}"
    return None


@contextmanager
def temporary_database(kind: str) -> Iterator[Settings]:
    """Settings of a new, migrated database of `kind`, deleted afterwards."""
    with tempfile.TemporaryDirectory(prefix="keyhouse-bench-") as var_dir:
        base: dict[str, Any] = {"var_dir": Path(var_dir), "secret_key": secrets.token_urlsafe(48)}
        if kind == "sqlite":
            settings = Settings(**base, database_url=f"sqlite:///{var_dir}/keyhouse.db")
            upgrade_to_head(settings)
            yield settings
            return
        name = f"keyhouse_bench_{secrets.token_hex(4)}"
        asyncio.run(_postgres(f"CREATE DATABASE {name}"))
        try:
            url = POSTGRES_ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}"
            settings = Settings(**base, database_url=url)
            upgrade_to_head(settings)
            yield settings
        finally:
            asyncio.run(_postgres(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def server_environment(settings: Settings) -> dict[str, str]:
    """The environment a `keyhouse` process needs for `settings`, with the per-key limit lifted."""
    assert settings.secret_key is not None, "temporary_database always sets a secret key"
    return {
        **os.environ,
        "KEYHOUSE_DATABASE_URL": settings.database_url,
        "KEYHOUSE_SECRET_KEY": settings.secret_key.get_secret_value(),
        "KEYHOUSE_VAR_DIR": str(settings.var_dir),
        # A load test would otherwise meet the per-key request limit's 429.
        "KEYHOUSE_KEY_REQUESTS": "1000000000/minute",
    }
