"""Operators list and disconnect connections from the command line, from another process."""

import asyncio

import httpx

from keyhouse.api_keys.models import AccessLevel
from keyhouse.config import Settings
from keyhouse.connections import service as connections
from keyhouse.db import Database
from tests.factories import make_tenant
from tests.oauth_flow import connect
from tests.servers import cli

TOOLS_LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
MCP_HEADERS = {
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-06-18",
}


async def test_disconnect_from_the_command_line_stops_the_next_request(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    connected = await connect(
        client, database, settings, user=tenant.admin, access=AccessLevel.FULL_ACCESS
    )
    headers = {**connected.bearer, **MCP_HEADERS}
    assert (await client.post("/mcp", json=TOOLS_LIST, headers=headers)).status_code == 200
    async with database.sessions() as session:
        (view,) = await connections.list_connections(session, account_id=tenant.account.id)
    listing = cli(settings, "connection", "list", "--account", tenant.account.slug).stdout
    assert "Test Assistant" in listing and "full_access" in listing and "active" in listing
    # In a thread, as in production: the server's event loop keeps running meanwhile.
    done = await asyncio.to_thread(
        cli, settings, "connection", "disconnect", str(view.connection.id), "--yes"
    )
    assert "Disconnected Test Assistant" in done.stdout
    after = await client.post("/mcp", json=TOOLS_LIST, headers=headers)
    assert after.status_code == 401
    listing = cli(settings, "connection", "list", "--account", tenant.account.slug).stdout
    assert "disconnected" in listing
