"""Expiry by default: 90 days unless said otherwise, and keys about to expire are flagged."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from keyhouse.api_keys.models import AccessLevel
from keyhouse.config import Settings
from keyhouse.db import Database
from tests.factories import make_key, make_tenant, unique
from tests.servers import cli, cli_json
from tests.web.browsing import csrf_of, sign_in

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

PASSWORD = "correct horse battery"


def _days_from_now(moment: str) -> float:
    return (datetime.fromisoformat(moment) - datetime.now(UTC)) / timedelta(days=1)


async def _create(client: httpx.AsyncClient, csrf: str, **fields: object) -> httpx.Response:
    body = {"name": unique("key"), "access_level": "read_only", **fields}
    return await client.post("/api/v1/api-keys", json=body, headers={"X-CSRF-Token": csrf})


async def test_the_json_api_defaults_to_90_days_and_takes_a_date_a_lifetime_or_never(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    csrf = await sign_in(client, tenant.admin.email, PASSWORD)
    default = (await _create(client, csrf)).json()
    assert 89.9 < _days_from_now(default["expires_at"]) <= 90
    in_days = (await _create(client, csrf, expires_in_days=30)).json()
    assert 29.9 < _days_from_now(in_days["expires_at"]) <= 30
    when = (datetime.now(UTC) + timedelta(days=12)).replace(microsecond=0)
    dated = (await _create(client, csrf, expires_at=when.isoformat())).json()
    assert datetime.fromisoformat(dated["expires_at"]) == when
    for never in ({"expires_at": None}, {"expires_in_days": None}):
        created = await _create(client, csrf, **never)
        assert created.status_code == 201 and created.json()["expires_at"] is None, never
    for bad in (
        {"expires_at": when.isoformat(), "expires_in_days": 3},
        {"expires_at": "2020-01-01T00:00:00Z"},
        {"expires_at": "2030-01-01T00:00:00"},  # no time zone
    ):
        response = await _create(client, csrf, **bad)
        assert response.status_code == 422 and response.json()["error"] == "invalid_input", bad


async def test_keys_expiring_within_7_days_are_flagged_in_the_list_and_pages(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    soon, _ = await make_key(
        database, settings, tenant.account, AccessLevel.READ_ONLY, expires_in=timedelta(days=3)
    )
    later, _ = await make_key(
        database, settings, tenant.account, AccessLevel.READ_ONLY, expires_in=timedelta(days=8)
    )
    await sign_in(client, tenant.admin.email, PASSWORD)
    listed = {item["id"]: item for item in (await client.get("/api/v1/api-keys")).json()}
    assert listed[str(soon.id)]["expires_soon"] is True
    assert listed[str(later.id)]["expires_soon"] is False
    security = (await client.get("/settings/security")).text
    assert "1 key expires within 7 days" in security and "expires in 2 days" in security
    workspace = (await client.get("/")).text
    assert "1 API key expires within 7 days" in workspace
    table = cli(settings, "key", "list", "--account", str(tenant.account.id)).stdout
    assert "(expires soon)" in table
    csrf = csrf_of(workspace)
    rolled = await client.post(
        f"/api/v1/api-keys/{soon.id}/roll",
        json={"expire_old_in_seconds": 3600},
        headers={"X-CSRF-Token": csrf},
    )
    # The replacement keeps the 3-day lifetime; the rolled key needs no action any more.
    assert rolled.status_code == 201
    assert "1 API key expires within 7 days" in (await client.get("/")).text
    assert "1 key expires within 7 days" in (await client.get("/settings/security")).text


async def test_the_create_form_defaults_to_90_days_and_warns_about_never(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    await sign_in(client, tenant.admin.email, PASSWORD)
    form = await client.get("/settings/security/api-keys/new")
    assert '<option value="90" selected>' in form.text
    assert "the key works until someone revokes it" in form.text
    data = {"name": "Default expiry", "access_level": "read_only", "csrf_token": csrf_of(form.text)}
    created = await client.post("/settings/security/api-keys", data=data, follow_redirects=True)
    assert created.status_code == 200 and "never expires" not in created.text
    never = await client.post(
        "/settings/security/api-keys",
        data={**data, "name": "Forever", "expires_in_days": "never"},
        follow_redirects=True,
    )
    assert "This key never expires" in never.text


async def test_the_command_line_defaults_to_90_days_and_says_so(
    database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    assert "default is 90d" in cli(settings, "key", "create", "--help").stdout
    base = ["key", "create", "--account", str(tenant.account.id), "--access", "read_only"]
    default = cli_json(settings, *base, "--name", "Default")
    assert 89.9 < _days_from_now(default["expires_at"]) <= 90
    never = cli_json(settings, *base, "--name", "Forever", "--expires-in", "never")
    assert never["expires_at"] is None
