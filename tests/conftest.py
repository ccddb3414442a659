"""The suite runs once per database: KEYHOUSE_TEST_DATABASE=sqlite (default) or postgresql.

On PostgreSQL each run creates its own database and drops it at the end; an unreachable
server fails the run loudly rather than skipping it.
"""

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from keyhouse.app import create_app
from keyhouse.config import Settings
from keyhouse.db import Database, upgrade_to_head
from tests.servers import free_port

POSTGRES_ADMIN_DSN = os.environ.get(
    "KEYHOUSE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _database_kind() -> str:
    kind = os.environ.get("KEYHOUSE_TEST_DATABASE", "sqlite")
    if kind not in {"sqlite", "postgresql"}:
        raise pytest.UsageError("KEYHOUSE_TEST_DATABASE must be sqlite or postgresql")
    return kind


async def _postgres(statement: str) -> None:
    try:
        connection = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)
    except (OSError, asyncpg.PostgresError) as error:
        pytest.exit(
            f"PostgreSQL is not reachable at {POSTGRES_ADMIN_DSN} ({error}); "
            "start it, then run `make test` again.",
            returncode=1,
        )
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings of a brand-new, migrated database for this run."""
    var_dir: Path = tmp_path_factory.mktemp("var")
    base = {
        "var_dir": var_dir,
        "secret_key": secrets.token_urlsafe(48),
        "log_level": "warning",
        # The shared app's usage writer flushes only when a test asks (`app.state.usage.flush()`):
        # a test that blocks the event loop (a CLI subprocess, an in-process command) would
        # otherwise find SQLite locked by a flush the loop had begun and cannot finish. The
        # writer's own schedule is tested on an app of its own (tests/api_keys/test_lifecycle.py).
        "last_used_flush_seconds": 3600,
        # The shared app serves every test from one address with a few keys; the limits
        # themselves are proven on apps of their own (tests/kit/test_rate_limits.py).
        "auth_failures_per_ip": "100000/minute",
        "auth_failures_per_key_prefix": "100000/minute",
        "login_attempts_per_ip": "100000/minute",
        "oauth_registrations_per_ip": "100000/minute",
        "key_requests": "100000/minute",
        "secret_scanning_reports_per_ip": "100000/minute",
        # GitHub's public keys; tests/leaks/github.py writes a key of its own there.
        "secret_scanning_keys_file": var_dir / "github_secret_scanning_keys.json",
        # The port a live server binds when a test needs real HTTP (OAuth, MCP clients).
        "base_url": f"http://127.0.0.1:{free_port()}",
    }
    if _database_kind() == "sqlite":
        settings = Settings(**base)
        upgrade_to_head(settings)
        yield settings
        return
    name = f"keyhouse_test_{secrets.token_hex(4)}"
    asyncio.run(_postgres(f"CREATE DATABASE {name}"))
    settings = Settings(**base, database_url=f"postgresql://postgres@127.0.0.1:5432/{name}")
    try:
        upgrade_to_head(settings)
        yield settings
    finally:
        asyncio.run(_postgres(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The app with its lifespan running (database, cache, revocation feed, MCP sessions)."""
    application = create_app(settings)
    started, stopping = asyncio.Event(), asyncio.Event()

    async def run_lifespan() -> None:
        # One task enters and exits the lifespan: its task groups demand it.
        async with application.router.lifespan_context(application):
            started.set()
            await stopping.wait()

    task = asyncio.create_task(run_lifespan())
    await started.wait()
    yield application
    stopping.set()
    await task


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app through ASGI."""
    transport = httpx.ASGITransport(app=app)
    base_url = app.state.settings.base_url
    async with httpx.AsyncClient(transport=transport, base_url=base_url) as http:
        yield http


@pytest.fixture(scope="session")
async def live_server(app: FastAPI) -> AsyncIterator[str]:
    """The app served by uvicorn on 127.0.0.1 at its base URL, for real HTTP clients."""
    settings: Settings = app.state.settings
    port = int(settings.base_url.rsplit(":", 1)[1])
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
        await asyncio.sleep(0.02)
    yield settings.base_url
    server.should_exit = True
    await task


@pytest.fixture
def database(app: FastAPI) -> Database:
    """The app's database, for arranging data through the services."""
    db: Database = app.state.database
    return db
