"""The stateless transport holds nothing open: GET and DELETE on /mcp are 405.

A stateless server has no session to resume and no message to push, so a standing event
stream could only sit idle, outliving a revoked credential. Streamable HTTP lets a server
answer 405 instead, and the official SDK client goes on over POST alone.
"""

import httpx
import pytest

from keyhouse.api_keys.models import AccessLevel
from keyhouse.config import Settings
from keyhouse.db import Database
from tests.factories import make_key, make_tenant, revoke_key
from tests.mcp_clients import mcp_client


async def test_the_sdk_client_works_over_post_alone_and_a_standing_stream_is_refused(
    live_server: str, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    statuses: list[int] = []
    async with mcp_client(live_server, tenant.read_key, statuses=statuses) as mcp:
        result = await mcp.call_tool("who_am_i", {})
        assert result.structured_content is not None
        assert result.structured_content["access_level"] == "read_only"
    assert set(statuses) <= {200, 202}, statuses
    # What an older client sends for a standing stream: refused outright, never held open
    # (a held stream would end this request in a read timeout, failing the test).
    async with httpx.AsyncClient(base_url=live_server, timeout=10) as http:
        stream = await http.get(
            "/mcp",
            headers={
                **tenant.read,
                "Accept": "text/event-stream",
                "MCP-Protocol-Version": "2025-06-18",
            },
        )
    assert stream.status_code == 405
    assert stream.headers["allow"] == "POST"


@pytest.mark.parametrize("method", ["GET", "DELETE"])
async def test_get_and_delete_are_405_whatever_the_credential(
    client: httpx.AsyncClient, database: Database, settings: Settings, method: str
) -> None:
    tenant = await make_tenant(database, settings)
    key, secret = await make_key(database, settings, tenant.account, AccessLevel.READ_ONLY)
    await revoke_key(database, key)
    for headers in ({}, tenant.read, {"Authorization": f"Bearer {secret}"}):
        response = await client.request(
            method, "/mcp", headers={**headers, "Accept": "text/event-stream"}
        )
        assert response.status_code == 405
        assert response.headers["allow"] == "POST"
        assert not response.headers["content-type"].startswith("text/event-stream")
