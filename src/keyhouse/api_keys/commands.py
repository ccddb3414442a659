"""`keyhouse key create|list|revoke|roll`."""

from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.accounts import service as accounts
from keyhouse.api_keys import service
from keyhouse.api_keys.models import DEFAULT_LIFETIME_DAYS, AccessLevel, ApiKey
from keyhouse.api_keys.schemas import ApiKeyOut, CreatedApiKey, RolledApiKey
from keyhouse.audit.service import COMMAND_LINE
from keyhouse.kit.command_line import (
    AccountOption,
    JsonOption,
    ListJsonOption,
    YesOption,
    console,
    parse_duration,
    parse_id,
    print_json,
    print_json_list,
    run,
    settings,
    table,
    when,
)

app = typer.Typer(help="API keys.", no_args_is_help=True)

DEFAULT_EXPIRY = f"{DEFAULT_LIFETIME_DAYS}d"
SHOWN_ONCE = "[yellow]Copy it now: it will not be shown again.[/yellow]"


def parse_lifetime(text: str) -> timedelta | None:
    """`--expires-in`: a duration, or `never` (None)."""
    return None if text.strip().lower() == "never" else parse_duration(text)


def parse_grace(text: str) -> timedelta:
    """`--expire-old-in`: `0` (now) or a duration up to 7 days."""
    grace = timedelta(0) if text.strip() == "0" else parse_duration(text)
    if grace > service.MAX_ROLL_GRACE:
        raise typer.BadParameter("the old key may keep working at most 7 days (7d)")
    return grace


@app.command("create")
def create(
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
    description: Annotated[
        str | None, typer.Option("--description", help="What the key is for (optional).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Create an API key; its secret is printed once and never again."""
    lifetime = parse_lifetime(expires_in)

    async def work(session: AsyncSession) -> tuple[ApiKey, str]:
        target = await accounts.resolve(session, id_or_slug=account)
        return await service.create(
            session,
            COMMAND_LINE,
            secret=settings().secret,
            account_id=target.id,
            name=name,
            access_level=access,
            expires_at=datetime.now(UTC) + lifetime if lifetime else None,
            rate_limit=rate_limit,
            description=description,
        )

    key, secret = run(work)
    if as_json:
        print_json(
            CreatedApiKey.model_validate(
                {**ApiKeyOut.model_validate(key).model_dump(), "secret": secret}
            )
        )
        return
    console.print(f"Created {key.access_level.value} key [bold]{key.name}[/bold] ({key.id}).")
    console.print(f"\n  {secret}\n", soft_wrap=True)
    console.print(SHOWN_ONCE)


@app.command("list")
def list_keys(account: AccountOption, as_json: ListJsonOption = False) -> None:
    """List an account's keys (never their secrets); keys expiring within 7 days are flagged."""

    async def work(session: AsyncSession) -> list[ApiKeyOut]:
        target = await accounts.resolve(session, id_or_slug=account)
        listed = await service.list_keys(session, account_id=target.id)
        return [ApiKeyOut.model_validate(key) for key in listed]

    keys = run(work)
    if as_json:
        print_json_list(keys)
        return
    listing = table("ID", "Name", "Key", "Access", "Created", "Last used", "Expires", "Status")
    for key in keys:
        expires = when(key.expires_at)
        listing.add_row(
            str(key.id),
            key.name,
            f"{key.hint}…",
            key.access_level.value,
            when(key.created_at),
            when(key.last_used_at),
            f"[yellow]{expires} (expires soon)[/yellow]" if key.expires_soon else expires,
            f"{key.status}: {key.revoked_reason}" if key.revoked_reason else key.status,
        )
    console.print(listing)


@app.command("revoke")
def revoke(key_id: str, yes: YesOption = False, as_json: JsonOption = False) -> None:
    """Revoke a key: every request with it is refused from the moment this returns.

    Asks for confirmation; scripts must pass --yes.
    """
    parsed = parse_id(key_id, what="KEY_ID", listed_by="keyhouse key list")
    if not yes:
        typer.confirm(f"Revoke key {parsed}? Scripts using it will stop working", abort=True)

    async def work(session: AsyncSession) -> ApiKey:
        account_id = await service.account_of_key(session, key_id=parsed)
        return await service.revoke(session, COMMAND_LINE, account_id=account_id, key_id=parsed)

    key = run(work)
    if as_json:
        print_json(ApiKeyOut.model_validate(key))
        return
    console.print(f"Revoked key [bold]{key.name}[/bold] ({key.hint}…).")


@app.command("roll")
def roll(
    key_id: str,
    expire_old_in: Annotated[
        str,
        typer.Option(
            "--expire-old-in",
            help="When the old key stops working: 0 (now), 30m, 1h, 24h, 7d (at most).",
        ),
    ],
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    """Replace a key with a new one (secret printed once); the old one expires as asked.

    Asks for confirmation; scripts must pass --yes.
    """
    parsed = parse_id(key_id, what="KEY_ID", listed_by="keyhouse key list")
    grace = parse_grace(expire_old_in)
    if not yes:
        ends = "now" if not grace else f"in {expire_old_in.strip()}"
        typer.confirm(f"Roll key {parsed}? The old key stops working {ends}", abort=True)

    async def work(session: AsyncSession) -> service.Rolled:
        account_id = await service.account_of_key(session, key_id=parsed)
        return await service.roll(
            session,
            COMMAND_LINE,
            secret=settings().secret,
            account_id=account_id,
            key_id=parsed,
            expire_old_in=grace,
        )

    rolled = run(work)
    if as_json:
        print_json(_rolled_out(rolled))
        return
    console.print(f"Rolled [bold]{rolled.key.name}[/bold]: new key {rolled.key.id}.")
    console.print(f"\n  {rolled.secret}\n", soft_wrap=True)
    console.print(SHOWN_ONCE)
    console.print(
        f"The old key {rolled.old.hint}… stops working at {when(rolled.old_expires_at)} UTC."
    )


def _rolled_out(rolled: service.Rolled) -> RolledApiKey:
    return RolledApiKey.model_validate(
        {
            **ApiKeyOut.model_validate(rolled.key).model_dump(),
            "secret": rolled.secret,
            "rolled_from": rolled.old.id,
            "old_expires_at": rolled.old_expires_at,
        }
    )
