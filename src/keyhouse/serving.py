"""`keyhouse serve`, `keyhouse demo` and `keyhouse db upgrade`: running a Keyhouse server."""

import os
import socket
from typing import Annotated

import typer
import uvicorn
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse import demo as demo_workspace
from keyhouse.accounts import service as accounts
from keyhouse.accounts.models import Account
from keyhouse.api_keys import service as api_keys
from keyhouse.api_keys.models import AccessLevel
from keyhouse.audit.service import COMMAND_LINE
from keyhouse.config import Settings
from keyhouse.db import (
    SchemaDrift,
    check_schema,
    new_revision,
    print_current_revision,
    upgrade_to_head,
)
from keyhouse.kit.command_line import console, errors, run, settings
from keyhouse.metrics.workers import metrics_directory

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)

DEMO_KEY_NAME = "Demo read-only key (make run)"
BASE_URL_VARIABLE = "KEYHOUSE_BASE_URL"
# Listening on every address: the browser on this machine still reaches 127.0.0.1.
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 - names them, binds nothing


def serve(
    host: str = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(min=1)] = 1,
    demo: Annotated[
        bool, typer.Option(help="Seed the demo workspace if empty; print logins.")
    ] = False,
) -> None:
    """Serve the API (migrates the embedded database first).

    Sign-in links, the MCP URL and the OAuth metadata name http://127.0.0.1:PORT unless
    KEYHOUSE_BASE_URL says otherwise.
    """
    _check_port_free(host, port)
    # Before the settings are read, here and in every worker process uvicorn starts.
    os.environ.setdefault(BASE_URL_VARIABLE, _local_url(host, port))
    checked = settings()
    if demo:
        _announce_demo(checked)
    else:
        console.print(f"Keyhouse on [bold]{checked.base_url}[/bold]")
    with metrics_directory(checked, workers):
        uvicorn.run(
            "keyhouse.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            access_log=False,
            log_level="warning",
            timeout_keep_alive=checked.keep_alive_seconds,
            timeout_graceful_shutdown=checked.graceful_shutdown_seconds,
            proxy_headers=True,
            forwarded_allow_ips=checked.forwarded_allow_ips,
        )


def _local_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in WILDCARD_HOSTS else host
    return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"


def _check_port_free(host: str, port: int) -> None:
    """Stop before anything changes (no demo key made, none revoked) when the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As uvicorn binds: a port left in TIME_WAIT by a previous run is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            errors.print(
                f"Port {port} on {host} is in use ({error.strerror}): stop what runs there, "
                f"or choose another port with --port (make run PORT={port + 1}).",
                soft_wrap=True,
            )
            raise typer.Exit(1) from error


def _announce_demo(checked: Settings) -> None:
    created, secret, replaced = run(_ensure_demo)
    url = checked.base_url
    logins = Table(title="Keyhouse demo workspace", show_header=False)
    logins.add_row("URL", url)
    logins.add_row("API docs", f"{url}/api/docs")
    logins.add_row("MCP server", checked.mcp_url)
    logins.add_row("Admin", f"{demo_workspace.ADMIN_EMAIL} / {demo_workspace.ADMIN_PASSWORD}")
    logins.add_row("Member", f"{demo_workspace.MEMBER_EMAIL} / {demo_workspace.MEMBER_PASSWORD}")
    logins.add_row("Read-only key", secret)
    console.print(logins)
    if created:
        console.print("Seeded a new demo workspace.")
    if replaced:
        console.print("The key above is new for this run; the previous run's key no longer works.")
    console.print(f'Try: curl -H "Authorization: Bearer {secret}" {url}/api/v1/me', soft_wrap=True)


async def _ensure_demo(session: AsyncSession) -> tuple[bool, str, bool]:
    """The demo workspace (seeded if empty) and a fresh read-only key for this run.

    The previous run's key is discarded, not just revoked, so runs don't pile up dead keys.
    """
    created = not await session.scalar(select(func.count()).select_from(Account))
    if created:
        await demo_workspace.build(session)
    account = await accounts.resolve(
        session, id_or_slug=accounts.slugify(demo_workspace.DEMO_ACCOUNT_NAME)
    )
    keys = await api_keys.list_keys(session, account_id=account.id)
    rolled = {key.rolled_from_id for key in keys}
    previous = [key for key in keys if key.name == DEMO_KEY_NAME]
    for key in previous:
        if key.id not in rolled:  # a demo key someone rolled stays, beside its successor
            await api_keys.discard(session, COMMAND_LINE, key=key)
    _key, secret = await api_keys.create(
        session,
        COMMAND_LINE,
        secret=settings().secret,
        account_id=account.id,
        name=DEMO_KEY_NAME,
        access_level=AccessLevel.READ_ONLY,
    )
    return created, secret, bool(previous)


def demo(
    seed: Annotated[int, typer.Option(help="Same seed, same workspace.")] = 7,
    reps: int = 40,
    crm_accounts: Annotated[int, typer.Option("--accounts")] = 5000,
) -> None:
    """Build a realistic demo workspace and print its logins."""
    built = run(
        lambda session: demo_workspace.build(
            session, seed=seed, reps=reps, crm_accounts=crm_accounts
        )
    )
    console.print(
        f"Demo account [bold]{built.account.slug}[/bold]: {built.reps} reps, "
        f"{built.crm_accounts} accounts."
    )
    console.print(f"Admin:  {demo_workspace.ADMIN_EMAIL} / {demo_workspace.ADMIN_PASSWORD}")
    console.print(f"Member: {demo_workspace.MEMBER_EMAIL} / {demo_workspace.MEMBER_PASSWORD}")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the latest schema."""
    upgrade_to_head(Settings())
    console.print("Database is at the latest schema.")


@db_app.command("current")
def db_current() -> None:
    """Print the database's schema revision; `(head)` marks the latest."""
    print_current_revision(Settings())


@db_app.command("check")
def db_check() -> None:
    """Exit 1 unless the database is migrated and matches the models (for CI)."""
    try:
        check_schema(Settings())
    except SchemaDrift as drift:
        errors.print(f"[red]Schema drift:[/red] {drift}")
        raise typer.Exit(1) from drift
    console.print("Database schema matches the models.")


@db_app.command("revision")
def db_revision(message: Annotated[str, typer.Option("--message", "-m")]) -> None:
    """Write a new migration from the models' changes (developers, in a checkout)."""
    new_revision(Settings(), message=message)
