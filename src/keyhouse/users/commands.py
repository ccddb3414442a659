"""`keyhouse user add|list|set-role|deactivate`."""

from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.accounts import service as accounts
from keyhouse.audit.service import COMMAND_LINE
from keyhouse.kit.command_line import (
    AccountOption,
    JsonOption,
    ListJsonOption,
    console,
    print_json,
    print_json_list,
    run,
    table,
    when,
)
from keyhouse.users import service
from keyhouse.users.models import Role, User
from keyhouse.users.schemas import MemberOut

app = typer.Typer(help="Users of an account.", no_args_is_help=True)


@app.command("add")
def add(
    account: AccountOption,
    email: Annotated[str, typer.Option("--email")],
    role: Annotated[Role, typer.Option("--role")],
    password: Annotated[str | None, typer.Option("--password")] = None,
    as_json: JsonOption = False,
) -> None:
    """Add a user to an account."""

    async def work(session: AsyncSession) -> User:
        target = await accounts.resolve(session, id_or_slug=account)
        return await service.add(
            session, COMMAND_LINE, account=target, email=email, role=role, password=password
        )

    user = run(work)
    if as_json:
        print_json(
            {
                "id": str(user.id),
                "email": user.email,
                "role": user.role.value,
                "account_id": str(user.account_id),
            }
        )
    else:
        console.print(f"Added {user.email} as {user.role.value}.")


@app.command("list")
def list_users(account: AccountOption, as_json: ListJsonOption = False) -> None:
    """List an account's users, deactivated ones too."""

    async def work(session: AsyncSession) -> list[MemberOut]:
        target = await accounts.resolve(session, id_or_slug=account)
        members = await service.list_members(session, account_id=target.id)
        return [MemberOut.model_validate(member) for member in members]

    members = run(work)
    if as_json:
        print_json_list(members)
        return
    listing = table("ID", "Email", "Role", "Status", "Added")
    for member in members:
        listing.add_row(
            str(member.id), member.email, member.role.value, member.status, when(member.created_at)
        )
    console.print(listing)


@app.command("set-role")
def set_role(email: str, role: Role) -> None:
    """Change a user's role (the last admin cannot be demoted)."""

    async def work(session: AsyncSession) -> User:
        user = await service.get_by_email(session, email=email)
        return await service.set_role(session, COMMAND_LINE, user=user, role=role)

    user = run(work)
    console.print(f"{user.email} is now {user.role.value}.")


@app.command("deactivate")
def deactivate(email: str) -> None:
    """Deactivate a user (the last admin cannot be deactivated); their connections end."""

    async def work(session: AsyncSession) -> User:
        user = await service.get_by_email(session, email=email)
        return await service.deactivate(session, COMMAND_LINE, user=user)

    user = run(work)
    console.print(f"{user.email} is deactivated.")
