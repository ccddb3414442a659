"""The `keyhouse` command line (Typer)."""

import asyncio
import json
import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Annotated, Any, TypeVar

import typer
import uvicorn
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse import demo as demo_workspace
from keyhouse.accounts import service as accounts
from keyhouse.accounts.models import Account
from keyhouse.api_keys import service as api_keys
from keyhouse.api_keys.models import DEFAULT_LIFETIME_DAYS, AccessLevel
from keyhouse.api_keys.schemas import ApiKeyOut, CreatedApiKey, RolledApiKey
from keyhouse.audit.commands import audit_app
from keyhouse.audit.service import COMMAND_LINE
from keyhouse.auth.credential_cache import CredentialCache
from keyhouse.auth.revocation import RevocationFeed
from keyhouse.config import ConfigurationError, Settings
from keyhouse.connections import service as connections
from keyhouse.csv_files import commands as csv_commands
from keyhouse.db import (
    Database,
    SchemaDrift,
    check_schema,
    new_revision,
    print_current_revision,
    upgrade_to_head,
)
from keyhouse.errors import KeyhouseError
from keyhouse.leaks import commands as leak_commands
from keyhouse.metrics.workers import metrics_directory
from keyhouse.users import service as users
from keyhouse.users.models import Role

app = typer.Typer(
    help="Keyhouse: API keys, REST API and MCP connections for a RevOps workspace.",
    no_args_is_help=True,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
account_app = typer.Typer(help="Accounts (workspaces).", no_args_is_help=True)
user_app = typer.Typer(help="Users of an account.", no_args_is_help=True)
key_app = typer.Typer(help="API keys.", no_args_is_help=True)
connection_app = typer.Typer(help="MCP connections of AI assistants.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(account_app, name="account")
app.add_typer(user_app, name="user")
app.add_typer(key_app, name="key")
app.add_typer(connection_app, name="connection")
app.add_typer(csv_commands.import_app, name="import")
app.add_typer(csv_commands.export_app, name="export")
app.command("scan")(leak_commands.scan)
app.add_typer(audit_app, name="audit")

console = Console()
errors = Console(stderr=True)
T = TypeVar("T")

DURATION_RE = re.compile(r"(\d+)([mhdw])")
DURATION_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
DEFAULT_EXPIRY = f"{DEFAULT_LIFETIME_DAYS}d"
DEMO_KEY_NAME = "Demo read-only key (make run)"

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
ListJsonOption = Annotated[bool, typer.Option("--json", help="Print a JSON array on stdout.")]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
AccountOption = Annotated[str, typer.Option("--account", help="The account's id or slug.")]


def _run(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one transaction on the configured database; errors end the command."""
    settings = _settings()

    async def in_transaction() -> T:
        database = Database(settings)
        # Registers the commit hooks that tell running servers about revocations and wait for them.
        RevocationFeed(settings, database, CredentialCache())
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
def _settings() -> Settings:
    """The settings of this command, checked and (on the embedded default) migrated, once."""
    settings = Settings()
    try:
        settings.secret  # noqa: B018 - fail early on a missing or placeholder secret
    except ConfigurationError as error:
        errors.print(f"[red]Configuration error:[/red] {error}")
        raise typer.Exit(2) from error
    if settings.is_embedded:
        upgrade_to_head(settings)
    return settings


def _print_json(data: dict[str, Any]) -> None:
    typer.echo(json.dumps(data, default=str))


def parse_duration(text: str) -> timedelta:
    """`90d`, `12h`, `2w`, `30m` as a timedelta."""
    match = DURATION_RE.fullmatch(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise typer.BadParameter("use a positive number and a unit: 30m, 12h, 90d or 2w")
    return timedelta(**{DURATION_UNITS[match.group(2)]: int(match.group(1))})


def parse_lifetime(text: str) -> timedelta | None:
    """`--expires-in`: a duration, or `never` (None)."""
    return None if text.strip().lower() == "never" else parse_duration(text)


def parse_grace(text: str) -> timedelta:
    """`--expire-old-in`: `0` (now) or a duration up to 7 days."""
    grace = timedelta(0) if text.strip() == "0" else parse_duration(text)
    if grace > api_keys.MAX_ROLL_GRACE:
        raise typer.BadParameter("the old key may keep working at most 7 days (7d)")
    return grace


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(min=1)] = 1,
    demo: Annotated[
        bool, typer.Option(help="Seed the demo workspace if empty; print logins.")
    ] = False,
) -> None:
    """Serve the API (migrates the embedded database first)."""
    settings = _settings()
    if demo:
        _announce_demo(settings, host, port)
    else:
        console.print(f"Keyhouse on [bold]http://{host}:{port}[/bold]")
    with metrics_directory(settings, workers):
        uvicorn.run(
            "keyhouse.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            access_log=False,
            log_level="warning",
            timeout_keep_alive=settings.keep_alive_seconds,
            timeout_graceful_shutdown=settings.graceful_shutdown_seconds,
            proxy_headers=True,
            forwarded_allow_ips=settings.forwarded_allow_ips,
        )


def _announce_demo(settings: Settings, host: str, port: int) -> None:
    created, secret = _run(_ensure_demo)
    url = f"http://{host}:{port}"
    table = Table(title="Keyhouse demo workspace", show_header=False)
    table.add_row("URL", url)
    table.add_row("API docs", f"{url}/api/docs")
    table.add_row("Admin", f"{demo_workspace.ADMIN_EMAIL} / {demo_workspace.ADMIN_PASSWORD}")
    table.add_row("Member", f"{demo_workspace.MEMBER_EMAIL} / {demo_workspace.MEMBER_PASSWORD}")
    table.add_row("Read-only key", secret)
    console.print(table)
    if created:
        console.print("Seeded a new demo workspace.")
    console.print("The key above is new for this run; the one from a previous run was revoked.")
    console.print(f'Try: curl -H "Authorization: Bearer {secret}" {url}/api/v1/me', soft_wrap=True)


async def _ensure_demo(session: AsyncSession) -> tuple[bool, str]:
    created = not await session.scalar(select(func.count()).select_from(Account))
    if created:
        await demo_workspace.build(session)
    account = await accounts.resolve(
        session, id_or_slug=accounts.slugify(demo_workspace.DEMO_ACCOUNT_NAME)
    )
    for key in await api_keys.list_keys(session, account_id=account.id):
        if key.name == DEMO_KEY_NAME and key.revoked_at is None:
            await api_keys.revoke(session, COMMAND_LINE, account_id=account.id, key_id=key.id)
    _key, secret = await api_keys.create(
        session,
        COMMAND_LINE,
        secret=_settings().secret,
        account_id=account.id,
        name=DEMO_KEY_NAME,
        access_level=AccessLevel.READ_ONLY,
    )
    return created, secret


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="Same seed, same workspace.")] = 7,
    reps: int = 40,
    crm_accounts: Annotated[int, typer.Option("--accounts")] = 5000,
) -> None:
    """Build a realistic demo workspace and print its logins."""
    built = _run(
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


@account_app.command("create")
def account_create(
    name: str,
    admin_email: Annotated[str, typer.Option("--admin-email")],
    admin_password: Annotated[str | None, typer.Option("--admin-password")] = None,
    as_json: JsonOption = False,
) -> None:
    """Create an account with its first admin."""
    account, admin = _run(
        lambda session: accounts.create(
            session, COMMAND_LINE, name=name, admin_email=admin_email, admin_password=admin_password
        )
    )
    if as_json:
        _print_json(
            {
                "id": str(account.id),
                "slug": account.slug,
                "name": account.name,
                "admin_id": str(admin.id),
                "admin_email": admin.email,
            }
        )
    else:
        console.print(
            f"Created account [bold]{account.slug}[/bold] ({account.id}); admin {admin.email}."
        )


@user_app.command("add")
def user_add(
    account: AccountOption,
    email: Annotated[str, typer.Option("--email")],
    role: Annotated[Role, typer.Option("--role")],
    password: Annotated[str | None, typer.Option("--password")] = None,
    as_json: JsonOption = False,
) -> None:
    """Add a user to an account."""

    async def work(session: AsyncSession) -> Any:
        target = await accounts.resolve(session, id_or_slug=account)
        return await users.add(
            session, COMMAND_LINE, account=target, email=email, role=role, password=password
        )

    user = _run(work)
    if as_json:
        _print_json(
            {
                "id": str(user.id),
                "email": user.email,
                "role": user.role.value,
                "account_id": str(user.account_id),
            }
        )
    else:
        console.print(f"Added {user.email} as {user.role.value}.")


@user_app.command("set-role")
def user_set_role(email: str, role: Role) -> None:
    """Change a user's role (the last admin cannot be demoted)."""

    async def work(session: AsyncSession) -> Any:
        user = await users.get_by_email(session, email=email)
        return await users.set_role(session, COMMAND_LINE, user=user, role=role)

    user = _run(work)
    console.print(f"{user.email} is now {user.role.value}.")


@user_app.command("deactivate")
def user_deactivate(email: str) -> None:
    """Deactivate a user (the last admin cannot be deactivated)."""

    async def work(session: AsyncSession) -> Any:
        user = await users.get_by_email(session, email=email)
        return await users.deactivate(session, COMMAND_LINE, user=user)

    user = _run(work)
    console.print(f"{user.email} is deactivated.")


@key_app.command("create")
def key_create(
    account: AccountOption,
    name: Annotated[str, typer.Option("--name")],
    access: Annotated[AccessLevel, typer.Option("--access")],
    expires_in: Annotated[
        str,
        typer.Option(
            "--expires-in", help=f"e.g. 30d, 12h, 2w, or never; the default is {DEFAULT_EXPIRY}."
        ),
    ] = DEFAULT_EXPIRY,
    rate_limit: Annotated[
        str | None, typer.Option("--rate-limit", help="e.g. 1200/minute (default: service's)")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Create an API key; its secret is printed once and never again."""
    lifetime = parse_lifetime(expires_in)

    async def work(session: AsyncSession) -> Any:
        target = await accounts.resolve(session, id_or_slug=account)
        return await api_keys.create(
            session,
            COMMAND_LINE,
            secret=_settings().secret,
            account_id=target.id,
            name=name,
            access_level=access,
            expires_at=datetime.now(UTC) + lifetime if lifetime else None,
            rate_limit=rate_limit,
        )

    key, secret = _run(work)
    shown = CreatedApiKey.model_validate(
        {**ApiKeyOut.model_validate(key).model_dump(), "secret": secret}
    )
    if as_json:
        typer.echo(shown.model_dump_json())
        return
    console.print(f"Created {key.access_level.value} key [bold]{key.name}[/bold] ({key.id}).")
    console.print(f"\n  {secret}\n")
    console.print("[yellow]Copy it now: it will not be shown again.[/yellow]")


@key_app.command("list")
def key_list(account: AccountOption, as_json: ListJsonOption = False) -> None:
    """List an account's keys (never their secrets); keys expiring within 7 days are flagged."""

    async def work(session: AsyncSession) -> Any:
        target = await accounts.resolve(session, id_or_slug=account)
        return [
            ApiKeyOut.model_validate(k)
            for k in await api_keys.list_keys(session, account_id=target.id)
        ]

    keys = _run(work)
    if as_json:
        typer.echo(json.dumps([key.model_dump(mode="json") for key in keys]))
        return
    table = Table("ID", "Name", "Key", "Access", "Created", "Last used", "Expires", "Status")
    for key in keys:
        expires = _when(key.expires_at)
        table.add_row(
            str(key.id),
            key.name,
            f"{key.hint}…",
            key.access_level.value,
            f"{key.created_at:%Y-%m-%d %H:%M}",
            _when(key.last_used_at),
            f"[yellow]{expires} (expires soon)[/yellow]" if key.expires_soon else expires,
            f"{key.status}: {key.revoked_reason}" if key.revoked_reason else key.status,
        )
    console.print(table)


def _when(moment: Any) -> str:
    return "—" if moment is None else f"{moment:%Y-%m-%d %H:%M}"


@key_app.command("revoke")
def key_revoke(
    key_id: str,
    yes: YesOption = False,
) -> None:
    """Revoke a key: every request with it is refused from the moment this returns."""
    parsed = _key_id(key_id)
    if not yes:
        typer.confirm(f"Revoke key {parsed}? Scripts using it will stop working", abort=True)

    async def work(session: AsyncSession) -> Any:
        account_id = await api_keys.account_of_key(session, key_id=parsed)
        return await api_keys.revoke(session, COMMAND_LINE, account_id=account_id, key_id=parsed)

    key = _run(work)
    console.print(f"Revoked key [bold]{key.name}[/bold] ({key.hint}…).")


@key_app.command("roll")
def key_roll(
    key_id: str,
    expire_old_in: Annotated[
        str,
        typer.Option(
            "--expire-old-in",
            help="When the old key stops working: 0 (now), 30m, 1h, 24h, 7d (at most).",
        ),
    ],
    yes: Annotated[
        bool,
        typer.Option("--yes", "-y", help="Do not ask for confirmation (scripts need it)."),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Replace a key with a new one (secret printed once); the old one expires as asked.

    Asks for confirmation; scripts must pass --yes.
    """
    parsed = _key_id(key_id)
    grace = parse_grace(expire_old_in)
    if not yes:
        when = "now" if not grace else f"in {expire_old_in.strip()}"
        typer.confirm(f"Roll key {parsed}? The old key stops working {when}", abort=True)

    async def work(session: AsyncSession) -> api_keys.Rolled:
        account_id = await api_keys.account_of_key(session, key_id=parsed)
        return await api_keys.roll(
            session,
            COMMAND_LINE,
            secret=_settings().secret,
            account_id=account_id,
            key_id=parsed,
            expire_old_in=grace,
        )

    rolled = _run(work)
    shown = RolledApiKey.model_validate(
        {
            **ApiKeyOut.model_validate(rolled.key).model_dump(),
            "secret": rolled.secret,
            "rolled_from": rolled.old.id,
            "old_expires_at": rolled.old_expires_at,
        }
    )
    if as_json:
        typer.echo(shown.model_dump_json())
        return
    console.print(f"Rolled [bold]{rolled.key.name}[/bold]: new key {rolled.key.id}.")
    console.print(f"\n  {rolled.secret}\n")
    console.print("[yellow]Copy it now: it will not be shown again.[/yellow]")
    ends = _when(rolled.old_expires_at)
    console.print(f"The old key {rolled.old.hint}… stops working at {ends} UTC.")


def _key_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError as error:
        raise typer.BadParameter("KEY_ID is the key's id, as `key list` shows it.") from error


@connection_app.command("list")
def connection_list(account: AccountOption) -> None:
    """List an account's MCP connections with their access now."""

    async def work(session: AsyncSession) -> Any:
        target = await accounts.resolve(session, id_or_slug=account)
        return await connections.list_connections(session, account_id=target.id)

    table = Table("ID", "User", "Assistant", "Access", "Connected", "Last used", "Status")
    for view in _run(work):
        connection = view.connection
        access = view.effective_access.value + (" (capped)" if view.is_capped else "")
        status = "active" if connection.revoked_at is None else connection.revoked_reason or "ended"
        table.add_row(
            str(connection.id),
            view.user.email,
            connection.client_name,
            access,
            _when(connection.created_at),
            _when(view.key.last_used_at),
            status,
        )
    console.print(table)


@connection_app.command("disconnect")
def connection_disconnect(
    connection_id: str,
    yes: YesOption = False,
) -> None:
    """Disconnect an assistant: its key and tokens stop working before this returns."""
    try:
        parsed = uuid.UUID(connection_id)
    except ValueError as error:
        raise typer.BadParameter("CONNECTION_ID is the id `connection list` shows.") from error
    if not yes:
        typer.confirm(
            f"Disconnect {parsed}? The assistant must reconnect to regain access", abort=True
        )

    async def work(session: AsyncSession) -> Any:
        return await connections.disconnect_by_id(session, COMMAND_LINE, connection_id=parsed)

    connection = _run(work)
    console.print(f"Disconnected [bold]{connection.client_name}[/bold] ({connection.id}).")
