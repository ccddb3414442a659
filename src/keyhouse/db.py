"""Engine and session factory; the request-scoped session commits or rolls back."""

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import asyncpg
from fastapi import Depends, Request
from sqlalchemy import Engine, Row, event
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session

from keyhouse import models
from keyhouse.config import Settings
from keyhouse.kit.listing import Query
from keyhouse.kit.text import UnstorableText, require_storable, text_problem

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

SQLITE_BUSY_TIMEOUT_MS = 10_000
# SQLAlchemy names a bound value after its column, plus `_1`, `_2`… in a WHERE clause.
BIND_SUFFIX = re.compile(r"_\d+$")
# Every table mapped in any process with a database (CLI, workers), not only in the app:
# a flush resolves foreign keys to tables that the code at hand may never import itself.
MAPPED_TABLES = models.__all__
# Alembic's scripts are package data, so `keyhouse db …` works from any folder.
MIGRATIONS = Path(__file__).with_name("migrations")


class SchemaDrift(Exception):
    """The database schema is not the one the models describe."""


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the writer; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _refuse_unstorable_text(
    _connection: Any,
    _cursor: Any,
    _statement: str,
    parameters: Any,
    context: DefaultExecutionContext | None,
    _executemany: bool,
) -> None:
    """Refuse a NUL or an unpaired surrogate in any bound text, on both databases alike.

    The request guard refuses them at the door; this is the floor under every other way
    in (the CLI's surrogate-escaped arguments, a CSV file, a value a service derived), so that
    SQLite never keeps what PostgreSQL could not take.
    """
    rows = context.compiled_parameters if context is not None and context.compiled else []
    for row in rows:
        for name, value in row.items():
            # The field's name is worked out only for a refusal: most values are fine.
            if isinstance(value, str) and (problem := text_problem(value)) is not None:
                raise UnstorableText(BIND_SUFFIX.sub("", name), problem)
    if not rows:  # a raw driver statement: its parameters have no names
        for value in _flat(parameters):
            if isinstance(value, str):
                require_storable(value, "a value")


def _flat(parameters: Any) -> Iterator[Any]:
    if isinstance(parameters, dict):
        yield from parameters.values()
    elif isinstance(parameters, list | tuple):
        for item in parameters:
            yield from _flat(item) if isinstance(item, list | tuple | dict) else (item,)


def create_engine(settings: Settings, *, for_reads: bool = False) -> AsyncEngine:
    """The async engine for the configured database (`for_reads`: see `_Reader`)."""
    if settings.is_embedded:
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(settings.async_database_url)
        event.listen(engine.sync_engine, "connect", _tune_sqlite)
    elif for_reads:
        engine = create_async_engine(
            settings.async_database_url,
            isolation_level="AUTOCOMMIT",
            pool_size=settings.database_pool_size,
            max_overflow=0,
        )
    else:
        engine = create_async_engine(
            settings.async_database_url,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
        )
        event.listen(engine.sync_engine, "checkout", _ping)
    _guard(engine.sync_engine)
    return engine


def _ping(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Check a pooled PostgreSQL connection before use, in one round trip.

    SQLAlchemy's own `pool_pre_ping` wraps asyncpg's ping in BEGIN and ROLLBACK (for PgBouncer's
    transaction mode, which Keyhouse does not support: docs/deploy.md), three round trips per
    checkout. On a dead connection the pool drops it and checks out another.
    """
    try:
        dbapi_connection.run_async(lambda driver: driver.fetchrow(";"))
    except (
        OSError,
        asyncpg.PostgresError,
        asyncpg.InterfaceError,
        asyncpg.InternalClientError,
    ) as error:
        # InternalClientError: the server ended the connection while it sat in the pool, and
        # asyncpg took the goodbye as an error still to consume; it refuses any use after.
        raise DisconnectionError(str(error)) from error


def _guard(engine: Engine) -> None:
    event.listen(engine, "before_cursor_execute", _refuse_unstorable_text)


class _Reader:
    """Runs single SELECTs outside any session, for the list path (kit/listing.py).

    A page is one statement: it needs no transaction, and on SQLite no trip to aiosqlite's
    thread per driver call. bench/README.md has the figures.
    """

    def __init__(self, settings: Settings) -> None:
        self._sqlite: Engine | None = None
        self._postgresql: AsyncEngine | None = None
        if settings.is_embedded:
            self._sqlite = create_sync_engine(settings.database_url)
            event.listen(self._sqlite, "connect", _tune_sqlite)
            _guard(self._sqlite)
        else:
            # Autocommit: no BEGIN and ROLLBACK around the query. No liveness ping before each
            # checkout either (a round trip, ~0.2 ms of CPU): a SELECT can simply be sent again
            # when it finds its pooled connection dead ("optimistic" disconnect handling).
            # Its own pool of at most `database_pool_size` connections (docs/deploy.md).
            self._postgresql = create_engine(settings, for_reads=True)

    async def read(self, query: Query) -> Sequence[Row[Any]]:
        """The query's rows."""
        if self._sqlite is not None:
            if query.filtered:
                # A search may read every row of the account (~50 ms for 50,000 accounts):
                # in a worker thread, where SQLite lets go of the GIL and the loop goes on.
                return await asyncio.to_thread(self._read_now, query)
            # An unfiltered page reads ~51 index entries (~0.3 ms) on the loop itself: less
            # than a trip to a worker thread costs under load (~0.4 ms of CPU, bench/README.md).
            return self._read_now(query)
        assert self._postgresql is not None
        try:
            return await self._read_postgresql(self._postgresql, query)
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
            # The server closed that connection (a restart, a failover): the pool has dropped
            # every connection of that age, and one fresh try settles it.
            return await self._read_postgresql(self._postgresql, query)

    @staticmethod
    async def _read_postgresql(engine: AsyncEngine, query: Query) -> Sequence[Row[Any]]:
        async with engine.connect() as connection:
            found: Sequence[Row[Any]] = (
                await connection.execute(query.statement, query.values)
            ).all()
            return found

    def _read_now(self, query: Query) -> Sequence[Row[Any]]:
        assert self._sqlite is not None
        with self._sqlite.connect() as connection:
            return connection.execute(query.statement, query.values).all()

    async def dispose(self) -> None:
        """Close its pooled connections."""
        if self._sqlite is not None:
            self._sqlite.dispose()
        if self._postgresql is not None:
            await self._postgresql.dispose()


class Database:
    """The engine and the session factory of one process."""

    def __init__(self, settings: Settings) -> None:
        self.engine = create_engine(settings)
        self._reader = _Reader(settings)
        # A class of our own, so that commit hooks attach to this database only.
        self.session_class: type[Session] = type("KeyhouseSession", (Session,), {})
        self.sessions = async_sessionmaker(
            self.engine, expire_on_commit=False, sync_session_class=self.session_class
        )
        # Awaited after each commit of `transaction()`, before the caller goes on (and so
        # before a response is sent): the revocation feed waits there for other instances.
        self.after_commit: list[Callable[[AsyncSession], Awaitable[None]]] = []

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session that commits when the block succeeds and rolls back when it raises."""
        async with self.sessions() as session:
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise
            await session.commit()
            for hook in self.after_commit:
                await hook(session)

    async def read(self, query: Query) -> Sequence[Row[Any]]:
        """The rows of one read-only query, outside any session (the list path)."""
        return await self._reader.read(query)

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
        await self._reader.dispose()


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    database: Database = request.app.state.database
    async with database.transaction() as session:
        yield session


# scope="function": the transaction commits before the response is sent, so a client that
# sees 2xx knows the change is durable (and a revoke is in force).
DbSession = Annotated[AsyncSession, Depends(_request_session, scope="function")]


async def _request_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


# The database itself, for list endpoints that read with `Database.read` and no session.
Reads = Annotated[Database, Depends(_request_database)]


def _alembic_config(settings: Settings) -> "AlembicConfig":
    """Alembic's configuration, built here: the migrations ship inside the package."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    config.attributes["settings"] = settings
    return config


def upgrade_to_head(settings: Settings) -> None:
    """Run Alembic migrations to head (synchronously: call before an event loop starts)."""
    from alembic import command

    command.upgrade(_alembic_config(settings), "head")


def print_current_revision(settings: Settings) -> None:
    """Print the database's revision, marked `(head)` when it is the latest."""
    from alembic import command

    command.current(_alembic_config(settings))


def check_schema(settings: Settings) -> None:
    """Raise SchemaDrift unless the database is at head and matches the models exactly."""
    from alembic import command
    from alembic.util.exc import AutogenerateDiffsDetected, CommandError

    try:
        command.check(_alembic_config(settings))
    except AutogenerateDiffsDetected as drift:
        raise SchemaDrift(str(drift)) from drift
    except CommandError as error:  # e.g. "Target database is not up to date."
        raise SchemaDrift(str(error)) from error


def new_revision(settings: Settings, *, message: str) -> None:
    """Write a migration for what the models have and the database does not (developers)."""
    from alembic import command

    command.revision(_alembic_config(settings), message=message, autogenerate=True)
