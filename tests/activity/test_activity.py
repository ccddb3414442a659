"""Assistant activity: each MCP tool call of a connection, never its arguments or results."""

import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI

from keyhouse.api_keys.models import AccessLevel
from keyhouse.api_keys.usage import UsageRecorder
from keyhouse.config import Settings
from keyhouse.db import Database
from tests.factories import make_crm_account, make_tenant
from tests.mcp_rpc import call_tool
from tests.oauth_flow import connect
from tests.storage import database_contains
from tests.web.browsing import new_client, sign_in

PASSWORD = "correct horse battery"


async def test_tool_calls_are_listed_newest_first_without_their_arguments(
    app: FastAPI, client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    secret_name = f"Confidential Prospect {uuid.uuid4().hex}"
    await make_crm_account(database, tenant.account, name=secret_name)
    connected = await connect(
        client, database, settings, user=tenant.admin, access=AccessLevel.FULL_ACCESS
    )
    calls = [
        ("who_am_i", {}, False),
        ("search_accounts", {"query": secret_name[:30]}, False),
        ("get_account", {"account_id": str(uuid.uuid4())}, True),
        ("no_such_tool", {"query": secret_name}, True),
    ]
    for name, arguments, fails in calls:
        answer = await call_tool(client, connected.bearer, name, arguments)
        failed = "error" in answer or answer["result"]["isError"]
        assert failed is fails, (name, answer)
    await app.state.usage.flush()

    async with new_client(app) as browser:
        await sign_in(browser, tenant.admin.email, PASSWORD)
        connection_id = (await browser.get("/api/v1/connections")).json()[0]["id"]
        first = (
            await browser.get(f"/api/v1/connections/{connection_id}/activity", params={"limit": 3})
        ).json()
        rest = (
            await browser.get(
                f"/api/v1/connections/{connection_id}/activity",
                params={"limit": 3, "cursor": first["next_cursor"]},
            )
        ).json()
    listed = first["data"] + rest["data"]
    assert rest["next_cursor"] is None
    assert [(c["tool"], c["outcome"]) for c in listed] == [
        ("unknown", "error"),
        ("get_account", "error"),
        ("search_accounts", "ok"),
        ("who_am_i", "ok"),
    ]
    assert all(call["duration_ms"] >= 0 for call in listed)
    times = [call["called_at"] for call in listed]
    assert times == sorted(times, reverse=True)
    assert await database_contains(database, secret_name[:30]) == ["crm_accounts.name"]
    assert await database_contains(database, "no_such_tool") == []


async def test_an_api_key_on_mcp_is_not_a_connections_activity(
    app: FastAPI, client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    answer = await call_tool(client, tenant.read, "who_am_i", {})
    assert answer["result"]["isError"] is False
    await app.state.usage.flush()
    async with new_client(app) as browser:
        await sign_in(browser, tenant.admin.email, PASSWORD)
        assert (await browser.get("/api/v1/connections")).json() == []


async def test_activity_past_its_retention_is_pruned_in_batches(
    app: FastAPI, client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    connected = await connect(
        client, database, settings, user=tenant.admin, access=AccessLevel.READ_ONLY
    )
    recorder: UsageRecorder = app.state.usage
    old = (datetime.now(UTC) - timedelta(days=settings.activity_retention_days + 1)).timestamp()
    recorder.clock = lambda: old
    try:
        for _ in range(3):
            await call_tool(client, connected.bearer, "who_am_i", {})
    finally:
        recorder.clock = time.time
    await call_tool(client, connected.bearer, "list_reps", {})
    await recorder.flush()
    assert await recorder.prune() >= 3
    async with new_client(app) as browser:
        await sign_in(browser, tenant.admin.email, PASSWORD)
        connection_id = (await browser.get("/api/v1/connections")).json()[0]["id"]
        kept = (await browser.get(f"/api/v1/connections/{connection_id}/activity")).json()
    assert [call["tool"] for call in kept["data"]] == ["list_reps"]
