"""What a tool knows of its caller: the principal /mcp attached, and a transaction to work in."""

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.auth.principal import PRINCIPAL_KEY, CredentialKind, Principal, Scope
from keyhouse.db import Database
from keyhouse.errors import KeyhouseError

T = TypeVar("T")


def principal_of(request: Any) -> Principal | None:
    """The principal our endpoint attached to this HTTP request."""
    scope = getattr(request, "scope", None) or {}
    found = scope.get(PRINCIPAL_KEY)
    return found if isinstance(found, Principal) else None


def read_only_explanation(principal: Principal) -> str:
    """Why this caller cannot change data, and who can change that."""
    if principal.credential is CredentialKind.MCP_CONNECTION and not principal.role_allows_write:
        return (
            f"This connection is read-only: your role in {principal.account_name} allows "
            "assistants read-only access. Only an admin of the account can connect an "
            "assistant with full access, or make you an admin."
        )
    if principal.credential is CredentialKind.MCP_CONNECTION:
        return "This connection is read-only. Reconnect the assistant and choose Full access."
    return "This API key is read-only. An admin can create a full-access key."


def require(ctx: Context, scope: Scope) -> Principal:
    """The caller, if its access covers `scope`; otherwise a tool error saying who can grant it."""
    principal = principal_of(ctx.request_context.request)
    if principal is None:
        raise ToolError("Not authenticated.")
    if not principal.allows(scope):
        raise ToolError(read_only_explanation(principal))
    return principal


async def call(
    ctx: Context, scope: Scope, work: Callable[[AsyncSession, Principal], Awaitable[T]]
) -> T:
    """Run `work` for the caller in one transaction; refusals become tool errors."""
    principal = require(ctx, scope)
    request = ctx.request_context.request
    database: Database = request.scope["app"].state.database  # type: ignore[union-attr]
    try:
        async with database.transaction() as session:
            return await work(session, principal)
    except KeyhouseError as error:
        raise ToolError(error.detail) from error
