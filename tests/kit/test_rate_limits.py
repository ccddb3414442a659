"""Rate limits: 429 with Retry-After and the JSON error, per address, key hint, key and store."""

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from keyhouse.app import create_app
from keyhouse.config import Settings
from keyhouse.db import Database
from keyhouse.kit import tokens
from tests.factories import make_tenant
from tests.servers import cli_json
from tests.web.browsing import csrf_of, new_client, sign_in

PASSWORD = "correct horse battery"
GARBAGE = {"Authorization": "Bearer kh_key_garbage"}


@asynccontextmanager
async def app_with(settings: Settings, **limits: str) -> AsyncIterator[FastAPI]:
    """An app of its own (its own counters) with these limits."""
    app = create_app(settings.model_copy(update=limits))
    async with app.router.lifespan_context(app):
        yield app


def _assert_rate_limited(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert int(response.headers["retry-after"]) >= 1
    body = response.json()
    assert body["error"] == "rate_limited" and body["detail"]


def _mistyped(secret: str) -> str:
    """The same key with one character of its random part changed (checksum still valid)."""
    body = secret.rsplit("_", 1)[0]
    body = body[:-1] + ("A" if body[-1] != "A" else "B")
    return f"{body}_{tokens._checksum(body)}"


async def test_failed_authentications_block_the_address_not_others(
    database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    async with app_with(settings, auth_failures_per_ip="3/minute") as app:
        async with new_client(app, address="10.1.0.1") as attacker:
            for _ in range(3):
                assert (await attacker.get("/api/v1/me", headers=GARBAGE)).status_code == 401
            # Even a right key is refused now: a guesser learns nothing more.
            _assert_rate_limited(await attacker.get("/api/v1/me", headers=tenant.read))
            _assert_rate_limited(await attacker.post("/mcp", headers=GARBAGE, json={}))
        async with new_client(app, address="10.1.0.2") as someone_else:
            assert (await someone_else.get("/api/v1/me", headers=tenant.read)).status_code == 200


async def test_requests_without_credentials_do_not_count_as_failures(
    database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    async with (
        app_with(settings, auth_failures_per_ip="2/minute") as app,
        new_client(app, address="10.1.1.1") as assistant,
    ):
        for _ in range(5):
            assert (await assistant.post("/mcp", json={})).status_code == 401
        assert (await assistant.get("/api/v1/me", headers=tenant.read)).status_code == 200


async def test_failures_against_one_key_hint_block_that_hint_from_every_address(
    database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    async with app_with(settings, auth_failures_per_key_prefix="2/minute") as app:
        for index in range(2):
            async with new_client(app, address=f"10.2.0.{index}") as guesser:
                guess = {"Authorization": f"Bearer {_mistyped(tenant.read_key)}"}
                assert (await guesser.get("/api/v1/me", headers=guess)).status_code == 401
        async with new_client(app, address="10.2.0.99") as owner:
            _assert_rate_limited(await owner.get("/api/v1/me", headers=tenant.read))
            # The hint covers the key's first 12 characters only: other keys are untouched.
            assert (await owner.get("/api/v1/me", headers=tenant.write)).status_code == 200


async def test_every_key_has_the_default_request_limit_on_rest_and_mcp(
    database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    async with app_with(settings, key_requests="2/minute") as app, new_client(app) as script:
        for _ in range(2):
            assert (await script.get("/api/v1/me", headers=tenant.read)).status_code == 200
        _assert_rate_limited(await script.get("/api/v1/me", headers=tenant.read))
        _assert_rate_limited(await script.post("/mcp", headers=tenant.read, json={}))
        assert (await script.get("/api/v1/me", headers=tenant.write)).status_code == 200


async def test_an_admin_sets_a_keys_own_limit_over_the_json_api(
    database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    async with app_with(settings) as app, new_client(app) as browser:
        csrf = {"X-CSRF-Token": await sign_in(browser, tenant.admin.email, PASSWORD)}
        body = {"name": "Nightly sync", "access_level": "read_only", "rate_limit": "2/minute"}
        created = (await browser.post("/api/v1/api-keys", json=body, headers=csrf)).json()
        assert created["rate_limit"] == "2/minute"
        auth = {"Authorization": f"Bearer {created['secret']}"}
        async with new_client(app) as script:
            for _ in range(2):
                assert (await script.get("/api/v1/me", headers=auth)).status_code == 200
            _assert_rate_limited(await script.get("/api/v1/me", headers=auth))
            url = f"/api/v1/api-keys/{created['id']}/rate-limit"
            raised = await browser.put(url, json={"rate_limit": "1200/minute"}, headers=csrf)
            assert raised.status_code == 200 and raised.json()["rate_limit"] == "1200/minute"
            assert (await script.get("/api/v1/me", headers=auth)).status_code == 200
            for bad in ("lots", "0/minute", "5 per fortnight"):
                refused = await browser.put(url, json={"rate_limit": bad}, headers=csrf)
                assert refused.status_code == 422, bad
                assert refused.json()["error"] == "invalid_input"


async def test_sign_in_attempts_answer_429_with_retry_after(
    database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    async with (
        app_with(settings, login_attempts_per_email="2/15 minutes") as app,
        new_client(app) as browser,
    ):
        form = await browser.get("/login")
        data = {"email": tenant.admin.email, "password": "guess", "csrf_token": csrf_of(form.text)}
        for _ in range(2):
            assert (await browser.post("/login", data=data)).status_code == 400
        blocked = await browser.post("/login", data={**data, "password": PASSWORD})
        assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1


async def test_oauth_registration_is_limited_per_address(settings: Settings) -> None:
    async with app_with(settings, oauth_registrations_per_ip="2/hour") as app:
        body = {"client_name": "Bot", "redirect_uris": ["http://127.0.0.1:9/cb"]}
        async with new_client(app, address="10.3.0.1") as flood:
            for _ in range(2):
                assert (await flood.post("/oauth/register", json=body)).status_code == 201
            _assert_rate_limited(await flood.post("/oauth/register", json=body))
        async with new_client(app, address="10.3.0.2") as other:
            assert (await other.post("/oauth/register", json=body)).status_code == 201


async def test_instances_share_their_counters_in_redis(
    database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    shared = {"redis_url": "redis://127.0.0.1:6379/0", "key_requests": "3/minute"}
    async with (
        app_with(settings, **shared) as first,
        app_with(settings, **shared) as second,
        new_client(first) as one,
        new_client(second) as two,
    ):
        assert (await one.get("/api/v1/me", headers=tenant.read)).status_code == 200
        assert (await two.get("/api/v1/me", headers=tenant.read)).status_code == 200
        assert (await one.get("/api/v1/me", headers=tenant.read)).status_code == 200
        _assert_rate_limited(await two.get("/api/v1/me", headers=tenant.read))


async def test_the_command_line_sets_a_keys_limit(database: Database, settings: Settings) -> None:
    tenant = await make_tenant(database, settings)
    name = f"limited-{secrets.token_hex(3)}"
    args = ("--account", str(tenant.account.id), "--name", name, "--access", "read_only")
    created = cli_json(settings, "key", "create", *args, "--rate-limit", "1200/minute")
    assert created["rate_limit"] == "1200/minute"
