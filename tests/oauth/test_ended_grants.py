"""A code or refresh token of a connection that has ended is `invalid_grant`; a refresh after
demotion says, and carries, only the scope in force."""

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from keyhouse.api_keys import service as api_keys
from keyhouse.api_keys.models import AccessLevel
from keyhouse.audit.service import COMMAND_LINE
from keyhouse.config import Settings
from keyhouse.connections import service as connections
from keyhouse.connections.models import Connection
from keyhouse.db import Database
from keyhouse.oauth.models import ConnectionToken, OAuthCode
from keyhouse.users import service as users
from keyhouse.users.models import Role, User
from tests.factories import make_tenant, make_user
from tests.oauth_flow import approve, connect, exchange, pkce, refresh, register

MCP_HEADERS = {
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-06-18",
}
WRITE_TOOL = "update_account"


async def _deactivate(database: Database, user: User, connection_id: uuid.UUID) -> None:
    async with database.transaction() as session:
        await users.deactivate(session, COMMAND_LINE, user=await session.merge(user))


async def _disconnect(database: Database, user: User, connection_id: uuid.UUID) -> None:
    async with database.transaction() as session:
        await connections.disconnect(
            session, COMMAND_LINE, account_id=user.account_id, connection_id=connection_id
        )


async def _revoke_key(database: Database, user: User, connection_id: uuid.UUID) -> None:
    """What `keyhouse key revoke` does to the connection's backing key."""
    async with database.transaction() as session:
        connection = await session.get_one(Connection, connection_id)
        await api_keys.revoke(
            session, COMMAND_LINE, account_id=user.account_id, key_id=connection.api_key_id
        )


Ending = Callable[[Database, User, uuid.UUID], Awaitable[None]]
ENDINGS = pytest.mark.parametrize(
    "end", [_deactivate, _disconnect, _revoke_key], ids=["deactivated", "disconnected", "revoked"]
)


async def _connection_of(database: Database, client_id: str) -> uuid.UUID:
    async with database.sessions() as session:
        query = select(OAuthCode.connection_id).where(OAuthCode.client_id == client_id)
        return (await session.scalars(query)).one()


async def _tokens_issued(database: Database, connection_id: uuid.UUID) -> int:
    async with database.sessions() as session:
        query = select(func.count()).where(ConnectionToken.connection_id == connection_id)
        return int(await session.scalar(query) or 0)


async def _tools(client: httpx.AsyncClient, access_token: str) -> list[str]:
    """The tools an assistant with this token is offered."""
    response = await client.post(
        "/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers={"Authorization": f"Bearer {access_token}", **MCP_HEADERS},
    )
    assert response.status_code == 200, response.text
    if response.headers["content-type"].startswith("text/event-stream"):
        data = next(line for line in response.text.splitlines() if line.startswith("data:"))
        body: dict[str, Any] = json.loads(data.removeprefix("data:"))
    else:
        body = response.json()
    return [tool["name"] for tool in body["result"]["tools"]]


@ENDINGS
async def test_a_code_of_a_connection_that_ended_gets_invalid_grant(
    client: httpx.AsyncClient, database: Database, settings: Settings, end: Ending
) -> None:
    tenant = await make_tenant(database, settings)
    member, _ = await make_user(database, tenant.account, Role.MEMBER)
    info = await register(client)
    verifier, challenge = pkce()
    code = await approve(
        database,
        settings,
        user=member,
        client_info=info,
        access=AccessLevel.READ_ONLY,
        challenge=challenge,
    )
    connection_id = await _connection_of(database, info["client_id"])
    await end(database, member, connection_id)
    response = await exchange(client, client_id=info["client_id"], code=code, verifier=verifier)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert "connection has ended" in response.json()["error_description"]
    assert await _tokens_issued(database, connection_id) == 0


@ENDINGS
async def test_a_refresh_token_of_a_connection_that_ended_gets_invalid_grant(
    client: httpx.AsyncClient, database: Database, settings: Settings, end: Ending
) -> None:
    tenant = await make_tenant(database, settings)
    member, _ = await make_user(database, tenant.account, Role.MEMBER)
    connected = await connect(client, database, settings, user=member, access=AccessLevel.READ_ONLY)
    connection_id = await _connection_of(database, connected.client_id)
    await end(database, member, connection_id)
    response = await refresh(client, client_id=connected.client_id, token=connected.refresh_token)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")
    assert await _tokens_issued(database, connection_id) == 2  # the first pair only


async def test_a_refresh_after_demotion_reports_and_carries_only_read(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    admin, _ = await make_user(database, tenant.account, Role.ADMIN)
    connected = await connect(
        client, database, settings, user=admin, access=AccessLevel.FULL_ACCESS
    )
    assert WRITE_TOOL in await _tools(client, connected.access_token)
    async with database.transaction() as session:
        await users.set_role(
            session, COMMAND_LINE, user=await session.merge(admin), role=Role.MEMBER
        )
    demoted = await refresh(client, client_id=connected.client_id, token=connected.refresh_token)
    assert demoted.status_code == 200, demoted.text
    assert demoted.json()["scope"] == "read"
    assert WRITE_TOOL not in await _tools(client, demoted.json()["access_token"])
    async with database.transaction() as session:
        await users.set_role(
            session, COMMAND_LINE, user=await session.merge(admin), role=Role.ADMIN
        )
    # The new tokens hold only `read`: promoting the user again does not widen them.
    assert WRITE_TOOL not in await _tools(client, demoted.json()["access_token"])
    again = await refresh(
        client, client_id=connected.client_id, token=demoted.json()["refresh_token"]
    )
    assert (again.status_code, again.json()["scope"]) == (200, "read")
    asked_write = await client.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "client_id": connected.client_id,
            "refresh_token": again.json()["refresh_token"],
            "scope": "read write",
        },
    )
    assert (asked_write.status_code, asked_write.json()["error"]) == (400, "invalid_scope")


async def test_a_code_approved_before_demotion_issues_only_read(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    admin, _ = await make_user(database, tenant.account, Role.ADMIN)
    info = await register(client)
    verifier, challenge = pkce()
    code = await approve(
        database,
        settings,
        user=admin,
        client_info=info,
        access=AccessLevel.FULL_ACCESS,
        challenge=challenge,
    )
    async with database.transaction() as session:
        await users.set_role(
            session, COMMAND_LINE, user=await session.merge(admin), role=Role.MEMBER
        )
    response = await exchange(client, client_id=info["client_id"], code=code, verifier=verifier)
    assert (response.status_code, response.json()["scope"]) == (200, "read")
    assert WRITE_TOOL not in await _tools(client, response.json()["access_token"])
