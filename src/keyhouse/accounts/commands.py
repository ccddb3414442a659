"""`keyhouse account create`."""

from typing import Annotated

import typer

from keyhouse.accounts import service
from keyhouse.audit.service import COMMAND_LINE
from keyhouse.kit.command_line import JsonOption, console, print_json, run

app = typer.Typer(help="Accounts (workspaces).", no_args_is_help=True)


@app.command("create")
def create(
    name: str,
    admin_email: Annotated[str, typer.Option("--admin-email")],
    admin_password: Annotated[str | None, typer.Option("--admin-password")] = None,
    as_json: JsonOption = False,
) -> None:
    """Create an account with its first admin."""
    account, admin = run(
        lambda session: service.create(
            session, COMMAND_LINE, name=name, admin_email=admin_email, admin_password=admin_password
        )
    )
    if as_json:
        print_json(
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
