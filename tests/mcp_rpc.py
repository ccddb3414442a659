"""One MCP `tools/call` as a raw JSON-RPC POST to /mcp, through any httpx client."""

import itertools
import json
from typing import Any

import httpx

HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-06-18",
}
_ids = itertools.count(1)


async def call_tool(
    client: httpx.AsyncClient, bearer: dict[str, str], name: str, arguments: dict[str, Any]
) -> dict[str, Any]:
    """The JSON-RPC response to calling tool `name` (stateless server: no handshake needed)."""
    message = {
        "jsonrpc": "2.0",
        "id": next(_ids),
        "method": "tools/call",
        "params": {"name": name, "arguments": arguments},
    }
    response = await client.post("/mcp", content=json.dumps(message), headers={**HEADERS, **bearer})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer
