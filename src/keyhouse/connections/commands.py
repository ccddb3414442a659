"""`keyhouse connection list|disconnect`."""

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.accounts import service as accounts
from keyhouse.audit.service import COMMAND_LINE
from keyhouse.connections import service
from keyhouse.connections.models import Connection
from keyhouse.connections.schemas import ConnectionOut
from keyhouse.kit.command_line import (
    AccountOption,
    ListJsonOption,
    YesOption,
    console,
    parse_id,
    print_json_list,
    run,
    table,
    when,
)

app = typer.Typer(help="MCP connections of AI assistants.", no_args_is_help=True)


@app.command("list")
def list_connections(account: AccountOption, as_json: ListJsonOption = False) -> None:
    """List an account's MCP connections, disconnected ones too, with their access now."""

    async def work(session: AsyncSession) -> list[ConnectionOut]:
        target = await accounts.resolve(session, id_or_slug=account)
        views = await service.list_connections(session, account_id=target.id)
        return [ConnectionOut.of(view) for view in views]

    listed = run(work)
    if as_json:
        print_json_list(listed)
        return
    listing = table("ID", "User", "Assistant", "Access", "Connected", "Last used", "Status")
    for connection in listed:
        capped = " (capped)" if connection.capped_to_read_only else ""
        ended = connection.revoked_reason or "ended"
        listing.add_row(
            str(connection.id),
            connection.user_email,
            connection.client_name,
            connection.effective_access.value + capped,
            when(connection.created_at),
            when(connection.last_used_at),
            "active" if connection.revoked_at is None else ended,
        )
    console.print(listing)


@app.command("disconnect")
def disconnect(connection_id: str, yes: YesOption = False) -> None:
    """Disconnect an assistant: its key and tokens stop working before this returns.

    Asks for confirmation; scripts must pass --yes.
    """
    parsed = parse_id(connection_id, what="CONNECTION_ID", listed_by="keyhouse connection list")
    if not yes:
        typer.confirm(
            f"Disconnect {parsed}? The assistant must reconnect to regain access", abort=True
        )

    async def work(session: AsyncSession) -> Connection:
        return await service.disconnect_by_id(session, COMMAND_LINE, connection_id=parsed)

    connection = run(work)
    console.print(f"Disconnected [bold]{connection.client_name}[/bold] ({connection.id}).")
