"""Requests per key and per connection, per UTC day and outcome, counted behind the request."""

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import httpx
from fastapi import FastAPI

from keyhouse.api_keys import service as api_keys
from keyhouse.api_keys.models import AccessLevel
from keyhouse.api_keys.usage import UsageRecorder
from keyhouse.audit.service import COMMAND_LINE
from keyhouse.config import Settings
from keyhouse.db import Database
from keyhouse.users.models import Role
from tests.factories import make_key, make_tenant, make_user
from tests.mcp_rpc import call_tool
from tests.oauth_flow import connect
from tests.web.browsing import new_client, sign_in

PASSWORD = "correct horse battery"
AGENT = {"User-Agent": "nightly-sync/2.1 (+https://example.com/sync)"}


@contextmanager
def on_day(app: FastAPI, day: date) -> Iterator[None]:
    """Count what the app records meanwhile as made at noon (UTC) of `day`."""
    recorder: UsageRecorder = app.state.usage
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=UTC).timestamp()
    recorder.clock = lambda: noon
    try:
        yield
    finally:
        recorder.clock = time.time


def by_date(body: dict[str, object]) -> dict[str, tuple[int, int, int, int]]:
    """Each day's (requests, ok, errors, rate_limited) of a usage answer."""
    days = body["data"]
    assert isinstance(days, list)
    return {
        day["date"]: (day["requests"], day["ok"], day["errors"], day["rate_limited"])
        for day in days
    }


async def test_counts_match_a_known_sequence_per_day_and_outcome(
    app: FastAPI, client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    key, secret = await make_key(database, settings, tenant.account, AccessLevel.READ_ONLY)
    bearer = {"Authorization": f"Bearer {secret}", **AGENT}
    today = datetime.now(UTC).date()
    two_days_ago, yesterday = today - timedelta(days=2), today - timedelta(days=1)
    with on_day(app, two_days_ago):
        for _ in range(3):
            assert (await client.get("/api/v1/me", headers=bearer)).status_code == 200
        refused = await client.post("/api/v1/reps", json={"name": "x"}, headers=bearer)
        assert refused.status_code == 403
    with on_day(app, yesterday):
        for _ in range(2):
            missing = await client.get(f"/api/v1/reps/{uuid.uuid4()}", headers=bearer)
            assert missing.status_code == 404
        assert (await client.get("/api/v1/reps", headers=bearer)).status_code == 200
    async with database.transaction() as session:
        await api_keys.set_rate_limit(
            session, COMMAND_LINE, account_id=key.account_id, key_id=key.id, rate_limit="2/hour"
        )
    statuses = [(await client.get("/api/v1/me", headers=bearer)).status_code for _ in range(4)]
    assert statuses == [200, 200, 429, 429]
    unknown = {"Authorization": f"Bearer {tenant.read_key[:-3]}xyz"}
    assert (await client.get("/api/v1/me", headers=unknown)).status_code == 401
    await app.state.usage.flush()

    await sign_in(client, tenant.admin.email, PASSWORD)
    response = await client.get(f"/api/v1/api-keys/{key.id}/usage", params={"days": 30})
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["data"]) == 30
    assert body["data"][-1]["date"] == today.isoformat()
    counted = {day: counts for day, counts in by_date(body).items() if counts != (0, 0, 0, 0)}
    assert counted == {
        two_days_ago.isoformat(): (4, 3, 1, 0),
        yesterday.isoformat(): (3, 1, 2, 0),
        today.isoformat(): (4, 2, 0, 2),
    }
    assert body["last_used_ip"] == "127.0.0.1"
    assert body["last_used_user_agent"] == AGENT["User-Agent"]
    assert body["last_used_at"] is not None


async def test_a_key_was_last_used_from_its_latest_request_with_the_agent_clipped(
    app: FastAPI, client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    key, secret = await make_key(database, settings, tenant.account, AccessLevel.READ_ONLY)
    long_agent = "batch-export/3.0 " + "x" * 600
    for agent in ("nightly-sync/2.1", long_agent):
        headers = {"Authorization": f"Bearer {secret}", "User-Agent": agent}
        assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
    await app.state.usage.flush()

    await sign_in(client, tenant.admin.email, PASSWORD)
    body = (await client.get(f"/api/v1/api-keys/{key.id}/usage")).json()
    assert body["last_used_user_agent"] == long_agent[:512]
    assert body["last_used_ip"] == "127.0.0.1"


async def test_days_without_requests_are_zero_and_the_range_is_bounded(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    key, _ = await make_key(database, settings, tenant.account, AccessLevel.READ_ONLY)
    await sign_in(client, tenant.admin.email, PASSWORD)
    response = await client.get(f"/api/v1/api-keys/{key.id}/usage", params={"days": 7})
    body = response.json()
    assert [day["requests"] for day in body["data"]] == [0] * 7
    assert body["last_used_at"] is None and body["last_used_ip"] is None
    for days in (0, 367):
        bad = await client.get(f"/api/v1/api-keys/{key.id}/usage", params={"days": days})
        assert bad.status_code == 422


async def test_a_connections_usage_is_its_own_users_and_the_admins_only(
    app: FastAPI, client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    member, password = await make_user(database, tenant.account, Role.MEMBER)
    other, other_password = await make_user(database, tenant.account, Role.MEMBER)
    connected = await connect(client, database, settings, user=member, access=AccessLevel.READ_ONLY)
    for _ in range(3):
        answer = await call_tool(client, {**connected.bearer, **AGENT}, "who_am_i", {})
        assert answer["result"]["isError"] is False
    await app.state.usage.flush()
    async with new_client(app) as browser:
        await sign_in(browser, member.email, password)
        listed = (await browser.get("/api/v1/connections")).json()
        connection_id = listed[0]["id"]
        own = await browser.get(f"/api/v1/connections/{connection_id}/usage")
        assert own.status_code == 200
        assert sum(day["ok"] for day in own.json()["data"]) == 3
        assert own.json()["last_used_user_agent"] == AGENT["User-Agent"]
    async with new_client(app) as browser:
        await sign_in(browser, other.email, other_password)
        for path in ("usage", "activity"):
            hidden = await browser.get(f"/api/v1/connections/{connection_id}/{path}")
            assert hidden.status_code == 404, path
        assert (await browser.get(f"/api/v1/api-keys/{uuid.uuid4()}/usage")).status_code == 403
    async with new_client(app) as browser:
        await sign_in(browser, tenant.admin.email, PASSWORD)
        seen = await browser.get(f"/api/v1/connections/{connection_id}/usage")
        assert sum(day["requests"] for day in seen.json()["data"]) == 3
        # A connection's backing key is not an API key of the account.
        backing = await browser.get(f"/api/v1/api-keys/{listed[0]['id']}/usage")
        assert backing.status_code == 404


async def test_another_accounts_key_and_connection_are_not_found(
    app: FastAPI, client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant, stranger = await make_tenant(database, settings), await make_tenant(database, settings)
    key, _ = await make_key(database, settings, stranger.account, AccessLevel.READ_ONLY)
    await connect(client, database, settings, user=stranger.admin, access=AccessLevel.READ_ONLY)
    async with new_client(app) as browser:
        await sign_in(browser, stranger.admin.email, PASSWORD)
        their_connection = (await browser.get("/api/v1/connections")).json()[0]["id"]
    async with new_client(app) as browser:
        await sign_in(browser, tenant.admin.email, PASSWORD)
        assert (await browser.get(f"/api/v1/api-keys/{key.id}/usage")).status_code == 404
        for path in ("usage", "activity"):
            response = await browser.get(f"/api/v1/connections/{their_connection}/{path}")
            assert response.status_code == 404


async def test_keys_cannot_read_usage(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    key, _ = await make_key(database, settings, tenant.account, AccessLevel.FULL_ACCESS)
    response = await client.get(f"/api/v1/api-keys/{key.id}/usage", headers=tenant.write)
    assert response.status_code == 403
