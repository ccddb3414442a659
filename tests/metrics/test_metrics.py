"""/metrics: hidden without the token, and exact counts after a known sequence of requests."""

import asyncio
import os
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from keyhouse.api_keys import service as api_keys
from keyhouse.api_keys.models import AccessLevel
from keyhouse.app import create_app
from keyhouse.audit.service import COMMAND_LINE
from keyhouse.config import ConfigurationError, Settings
from keyhouse.db import Database
from keyhouse.metrics.families import LATENCY_BUCKETS
from keyhouse.metrics.recorder import HAND_OVER_SECONDS
from tests.cluster import running_instance
from tests.factories import make_key, make_tenant, revoke_key
from tests.mcp_rpc import call_tool
from tests.web.browsing import new_client

TOKEN = secrets.token_urlsafe(32)
ME = {"route": "/api/v1/me", "method": "GET"}
LATENCY_BOUNDS = [*(str(bound) for bound in LATENCY_BUCKETS), "+Inf"]
HAND_OVER_WAIT_SECONDS = 10 * HAND_OVER_SECONDS  # far above the interval, for a busy machine
SCRAPE = {"Authorization": f"Bearer {TOKEN}"}
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(text: str) -> Samples:
    """Every sample of an exposition, by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float:
    """One sample's value; 0 when the series does not exist (yet)."""
    return found.get((name, frozenset(labels.items())), 0.0)


@asynccontextmanager
async def metered_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """An app of its own (its own registry) with metrics on, over the test database."""
    app = create_app(settings.model_copy(update={"metrics_token": SecretStr(TOKEN)}))
    async with app.router.lifespan_context(app):
        yield app


async def test_metrics_are_a_404_without_the_right_token(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    async with metered_app(settings) as metered, new_client(metered) as scraper:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            response = await scraper.get("/metrics", headers=headers)
            assert response.status_code == 404
            assert response.json()["error"] == "not_found"
        assert (await scraper.get("/metrics", headers=SCRAPE)).status_code == 200
    # The shared app has no token: no metrics at all, even for a bearer that looks right.
    assert (await client.get("/metrics", headers=SCRAPE)).status_code == 404


def test_a_short_metrics_token_stops_the_service(settings: Settings) -> None:
    with pytest.raises(ConfigurationError, match="KEYHOUSE_METRICS_TOKEN"):
        create_app(settings.model_copy(update={"metrics_token": SecretStr("short")}))


async def test_a_known_sequence_is_counted_exactly(database: Database, settings: Settings) -> None:
    tenant = await make_tenant(database, settings)
    key, secret = await make_key(database, settings, tenant.account, AccessLevel.READ_ONLY)
    bearer = {"Authorization": f"Bearer {secret}"}
    async with (
        metered_app(settings) as metered,
        new_client(metered, origin=settings.base_url) as http,
    ):
        for _ in range(3):
            assert (await http.get("/api/v1/me", headers=bearer)).status_code == 200
        missing = await http.get(f"/api/v1/reps/{uuid.uuid4()}", headers=bearer)
        assert missing.status_code == 404
        unknown = {"Authorization": f"Bearer {secret[:-3]}abc"}
        assert (await http.get("/api/v1/me", headers=unknown)).status_code == 401
        answer = await call_tool(http, bearer, "who_am_i", {})
        assert answer["result"]["isError"] is False
        # Through the metered app's own database: its revocation feed counts what it commits.
        own: Database = metered.state.database
        async with own.transaction() as session:
            await api_keys.set_rate_limit(
                session, COMMAND_LINE, account_id=key.account_id, key_id=key.id, rate_limit="1/hour"
            )
        statuses = [(await http.get("/api/v1/me", headers=bearer)).status_code for _ in range(2)]
        assert statuses == [200, 429]
        await revoke_key(own, key)
        assert (await http.get("/api/v1/me", headers=bearer)).status_code == 401
        found = samples((await http.get("/metrics", headers=SCRAPE)).text)

    requests = "keyhouse_http_requests_total"
    assert value(found, requests, route="/api/v1/me", method="GET", status="200") == 4
    assert value(found, requests, route="/api/v1/me", method="GET", status="401") == 2
    assert value(found, requests, route="/api/v1/me", method="GET", status="429") == 1
    assert value(found, requests, route="/api/v1/reps/{rep_id}", method="GET", status="404") == 1
    assert value(found, requests, route="/mcp", method="POST", status="200") == 1
    latency = "keyhouse_http_request_duration_seconds"
    assert value(found, f"{latency}_count", route="/api/v1/me", method="GET") == 7
    buckets = [value(found, f"{latency}_bucket", **ME, le=le) for le in LATENCY_BOUNDS]
    assert buckets == sorted(buckets)  # cumulative
    assert buckets[-1] == 7
    assert value(found, f"{latency}_sum", **ME) > 0
    tool_latency = "keyhouse_mcp_tool_call_duration_seconds_count"
    assert value(found, tool_latency, tool="who_am_i") == 1
    auth = "keyhouse_authentications_total"
    assert value(found, auth, credential="api_key", outcome="ok") == 7
    assert value(found, auth, credential="api_key", outcome="invalid") == 1
    assert value(found, auth, credential="api_key", outcome="revoked") == 1
    cache = "keyhouse_credential_cache_lookups_total"
    # One lookup per credential check. At least four miss (the first use, the unknown key, the
    # reload after the new limit, the revoked key); on PostgreSQL, more until the new app's
    # revocation listener holds its first lease and the cache may be trusted.
    assert value(found, cache, result="miss") + value(found, cache, result="hit") == 9
    assert value(found, cache, result="miss") >= 4
    assert value(found, "keyhouse_rate_limit_refusals_total", limit="key_requests") == 1
    assert value(found, "keyhouse_mcp_tool_calls_total", tool="who_am_i", outcome="ok") == 1
    # The limit change and the revoke each invalidated the key everywhere.
    assert value(found, "keyhouse_revocations_total") == 2
    assert ("keyhouse_db_pool_connections", frozenset({("state", "in_use")})) in found


async def test_each_request_is_counted_once_however_often_it_is_scraped(
    database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    async with (
        metered_app(settings) as metered,
        new_client(metered, origin=settings.base_url) as http,
    ):
        seen = []
        for requests in (2, 0, 1):
            for _ in range(requests):
                assert (await http.get("/api/v1/me", headers=tenant.read)).status_code == 200
            found = samples((await http.get("/metrics", headers=SCRAPE)).text)
            latency = "keyhouse_http_request_duration_seconds"
            seen.append((_me_requests(found), value(found, f"{latency}_count", **ME)))
    assert seen == [(2, 2), (2, 2), (3, 3)]


@pytest.mark.skipif(
    os.environ.get("KEYHOUSE_TEST_DATABASE", "sqlite") != "postgresql",
    reason="several workers share one database only on PostgreSQL",
)
@pytest.mark.filterwarnings("ignore::ResourceWarning")
async def test_workers_are_summed_whichever_answers_the_scrape(
    database: Database,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tenant = await make_tenant(database, settings)
    monkeypatch.setenv("KEYHOUSE_METRICS_TOKEN", TOKEN)
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    with running_instance(settings, tmp_path / "server.log", workers=2) as instance:
        async with httpx.AsyncClient(base_url=instance.url) as http:
            for _ in range(20):
                assert (await http.get("/api/v1/me", headers=tenant.read)).status_code == 200
            # Each worker hands its counts over within a second (docs/operations.md).
            await _scraped_once_all_counted(http, expected=20)
            scrapes = [samples((await http.get("/metrics", headers=SCRAPE)).text) for _ in range(6)]
    for found in scrapes:
        assert _me_requests(found) == 20
        assert value(found, "keyhouse_http_request_duration_seconds_count", **ME) == 20
        assert value(found, "keyhouse_http_request_duration_seconds_bucket", **ME, le="+Inf") == 20


def _me_requests(found: Samples) -> float:
    return value(found, "keyhouse_http_requests_total", **ME, status="200")


async def _scraped_once_all_counted(http: httpx.AsyncClient, *, expected: int) -> None:
    """Scrape until every worker's requests are in (never more than `expected`)."""
    deadline = time.monotonic() + HAND_OVER_WAIT_SECONDS
    while True:
        counted = _me_requests(samples((await http.get("/metrics", headers=SCRAPE)).text))
        assert counted <= expected
        if counted == expected or time.monotonic() > deadline:
            assert counted == expected
            return
        await asyncio.sleep(0.1)
