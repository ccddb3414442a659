"""What every `keyhouse` command shares: settings, one transaction, output and options.

Each command group lives beside its domain (`api_keys/commands.py` for `keyhouse key …`);
`keyhouse.cli` only registers them. They import from here, never from `keyhouse.cli`.
"""

import asyncio
import json
import re
import sys
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.auth.credential_cache import CredentialCache
from keyhouse.auth.revocation import RevocationFeed
from keyhouse.config import ConfigurationError, Settings
from keyhouse.db import Database, upgrade_to_head
from keyhouse.errors import KeyhouseError

# Piped output is read by scripts and grep: wide enough that Rich never cuts an id or a hint.
PIPED_WIDTH = 1000
console = Console(width=None if sys.stdout.isatty() else PIPED_WIDTH)
errors = Console(stderr=True)
T = TypeVar("T")

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
ListJsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON array (full ids) on stdout.")
]
YesOption = Annotated[
    bool,
    typer.Option("--yes", "-y", help="Do not ask for confirmation (scripts need it)."),
]
AccountOption = Annotated[str, typer.Option("--account", help="The account's id or slug.")]

DURATION_RE = re.compile(r"(\d+)([mhdw])")
DURATION_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def run(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one transaction on the configured database; errors end the command."""
    checked = settings()

    async def in_transaction() -> T:
        database = Database(checked)
        # Registers the commit hooks that tell running servers about revocations and wait for them.
        RevocationFeed(checked, database, CredentialCache())
        try:
            async with database.transaction() as session:
                return await work(session)
        finally:
            await database.dispose()

    try:
        return asyncio.run(in_transaction())
    except KeyhouseError as error:
        errors.print(f"[red]Error:[/red] {error.detail}")
        raise typer.Exit(1) from error


@cache
def settings() -> Settings:
    """The settings of this command, checked and (on the embedded default) migrated, once."""
    loaded = Settings()
    try:
        loaded.secret  # noqa: B018 - fail early on a missing or placeholder secret
    except ConfigurationError as error:
        errors.print(f"[red]Configuration error:[/red] {error}")
        raise typer.Exit(2) from error
    if loaded.is_embedded:
        upgrade_to_head(loaded)
    return loaded


def print_json(data: dict[str, Any] | BaseModel) -> None:
    """One JSON object on stdout."""
    typer.echo(data.model_dump_json() if isinstance(data, BaseModel) else json.dumps(data))


def print_json_list(items: Sequence[BaseModel]) -> None:
    """One JSON array on stdout, for a list command's `--json`."""
    typer.echo(json.dumps([item.model_dump(mode="json") for item in items]))


def table(*headers: str) -> Table:
    """A listing table whose id and key columns are never shortened, only folded."""
    listing = Table()
    for header in headers:
        whole = header in {"ID", "Key"}
        listing.add_column(header, no_wrap=whole, overflow="fold" if whole else "ellipsis")
    return listing


def when(moment: datetime | None) -> str:
    """A timestamp as a listing shows it (UTC, to the minute), or a dash."""
    return "—" if moment is None else f"{moment:%Y-%m-%d %H:%M}"


def parse_id(text: str, *, what: str, listed_by: str) -> uuid.UUID:
    """An id argument, or a usage error naming the command that lists them."""
    try:
        return uuid.UUID(text)
    except ValueError as error:
        raise typer.BadParameter(f"{what} is the id `{listed_by}` shows.") from error


def parse_duration(text: str) -> timedelta:
    """`90d`, `12h`, `2w`, `30m` as a timedelta."""
    match = DURATION_RE.fullmatch(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise typer.BadParameter("use a positive number and a unit: 30m, 12h, 90d or 2w")
    return timedelta(**{DURATION_UNITS[match.group(2)]: int(match.group(1))})
