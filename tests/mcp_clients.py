"""The official MCP SDK client, connected over real HTTP with a bearer credential."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx2
from mcp.client.client import Client
from mcp.client.streamable_http import streamable_http_client


@asynccontextmanager
async def mcp_client(
    base_url: str, token: str, *, mode: str = "legacy", statuses: list[int] | None = None
) -> AsyncIterator[Client]:
    """An MCP client session on `base_url`/mcp that sends `token` as its bearer.

    The HTTP status of every response is appended to `statuses` when given.
    """
    headers = {"Authorization": f"Bearer {token}"}
    seen = statuses if statuses is not None else []

    async def record(response: httpx2.Response) -> None:
        seen.append(response.status_code)

    async with (
        httpx2.AsyncClient(headers=headers, timeout=30, event_hooks={"response": [record]}) as http,
        Client(streamable_http_client(f"{base_url}/mcp", http_client=http), mode=mode) as client,
    ):
        yield client
