"""The single-exchange path answers every plain request exactly as the SDK's transport would."""

import json
from typing import Any

import httpx
import pytest

from keyhouse.config import Settings
from keyhouse.db import Database
from keyhouse.mcp.single_exchange import SingleExchange
from tests.factories import make_tenant

CALLS: list[tuple[str, dict[str, Any]]] = [
    ("tools/call", {"name": "who_am_i", "arguments": {}}),
    ("tools/list", {}),
    ("tools/call", {"name": "no_such_tool", "arguments": {}}),
    ("tools/call", {"name": "search_accounts", "arguments": {"limit": "many"}}),
    ("tools/call", {"name": "update_account", "arguments": {"account_id": "x"}}),
    ("ping", {}),
    ("resources/list", {}),
    ("no/such/method", {}),
]
HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-06-18",
}


async def _answers(client: httpx.AsyncClient, bearer: dict[str, str]) -> list[tuple[int, Any]]:
    answers = []
    for number, (method, params) in enumerate(CALLS):
        call = {"jsonrpc": "2.0", "id": number, "method": method, "params": params}
        response = await client.post(
            "/mcp", content=json.dumps(call), headers={**bearer, **HEADERS}
        )
        answers.append((response.status_code, response.json()))
    return answers


async def test_plain_requests_get_the_sdk_transports_answers(
    client: httpx.AsyncClient,
    database: Database,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tenant = await make_tenant(database, settings)
    taken: list[bool] = []
    answer = SingleExchange.answer

    async def recorded(exchange: SingleExchange, *arguments: Any) -> bool:
        taken.append(await answer(exchange, *arguments))
        return taken[-1]

    monkeypatch.setattr(SingleExchange, "answer", recorded)
    served = await _answers(client, tenant.read)
    assert taken == [True] * len(CALLS)

    async def leave_to_the_sdk(*_arguments: object) -> bool:
        return False

    monkeypatch.setattr(SingleExchange, "answer", leave_to_the_sdk)
    by_the_sdk = await _answers(client, tenant.read)
    assert served == by_the_sdk
    assert served[0][1]["result"]["structuredContent"]["access_level"] == "read_only"
    assert {status for status, _ in served} == {200}
