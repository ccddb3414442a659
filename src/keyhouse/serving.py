"""`keyhouse serve`, `keyhouse demo` and `keyhouse db upgrade`: running a Keyhouse server."""

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
from keyhouse.db import upgrade_to_head
from keyhouse.kit.command_line import console, run, settings

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)

DEMO_KEY_NAME = "Demo read-only key (make run)"


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(min=1)] = 1,
    demo: Annotated[
        bool, typer.Option(help="Seed the demo workspace if empty; print logins.")
    ] = False,
) -> None:
    """Serve the API (migrates the embedded database first)."""
    checked = settings()
    if demo:
        _announce_demo(checked, host, port)
    else:
        console.print(f"Keyhouse on [bold]http://{host}:{port}[/bold]")
    uvicorn.run(
        "keyhouse.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_level="warning",
    )


def _announce_demo(checked: Settings, host: str, port: int) -> None:
    created, secret = run(_ensure_demo)
    url = f"http://{host}:{port}"
    logins = Table(title="Keyhouse demo workspace", show_header=False)
    logins.add_row("URL", url)
    logins.add_row("API docs", f"{url}/api/docs")
    logins.add_row("Admin", f"{demo_workspace.ADMIN_EMAIL} / {demo_workspace.ADMIN_PASSWORD}")
    logins.add_row("Member", f"{demo_workspace.MEMBER_EMAIL} / {demo_workspace.MEMBER_PASSWORD}")
    logins.add_row("Read-only key", secret)
    console.print(logins)
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
        secret=settings().secret,
        account_id=account.id,
        name=DEMO_KEY_NAME,
        access_level=AccessLevel.READ_ONLY,
    )
    return created, secret


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
