"""Settings → Security through HTTP: one key per form, the one-time secret page, filters, and
disconnected connections kept in the list."""

import re

import httpx
from sqlalchemy import func, select

from keyhouse.api_keys.models import AccessLevel, ApiKey
from keyhouse.config import Settings
from keyhouse.db import Database
from tests.factories import make_key, make_tenant, revoke_key
from tests.oauth_flow import connect
from tests.web.browsing import csrf_of, sign_in
from tests.web.test_api_keys_page import SECRET_RE, request_id_of

PASSWORD = "correct horse battery"


async def _count(database: Database, name: str) -> int:
    async with database.sessions() as session:
        return await session.scalar(select(func.count()).where(ApiKey.name == name)) or 0


async def test_the_same_form_sent_twice_makes_one_key_and_shows_its_secret_once(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    await sign_in(client, tenant.admin.email, PASSWORD)
    form = (await client.get("/settings/security/api-keys/new")).text
    data = {
        "name": "Sent twice",
        "description": "Nightly export to the warehouse",
        "access_level": "read_only",
        "expires_in_days": "90",
        "csrf_token": csrf_of(form),
        "request_id": request_id_of(form),
    }
    first = await client.post("/settings/security/api-keys", data=data)
    again = await client.post("/settings/security/api-keys", data=data)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    assert await _count(database, "Sent twice") == 1
    assert "set-cookie" in first.headers and "set-cookie" not in again.headers
    shown = await client.get(first.headers["location"])
    secret = SECRET_RE.search(shown.text)
    assert secret is not None and shown.headers["cache-control"] == "no-store"
    assert "Nightly export to the warehouse" in shown.text
    reloaded = await client.get(first.headers["location"])
    assert reloaded.status_code == 200 and SECRET_RE.search(reloaded.text) is None
    assert "was shown once" in reloaded.text
    assert secret.group(1)[8:] not in str(first.headers)  # sealed, never in the clear


async def test_a_secret_page_refuses_another_keys_sealed_secret(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    await sign_in(client, tenant.admin.email, PASSWORD)
    form = (await client.get("/settings/security/api-keys/new")).text
    data = {"name": "Sealed", "access_level": "read_only", "csrf_token": csrf_of(form)}
    made = await client.post(
        "/settings/security/api-keys", data={**data, "request_id": request_id_of(form)}
    )
    sealed = made.cookies["keyhouse_shown_once"]
    other, _ = await make_key(database, settings, tenant.account, AccessLevel.READ_ONLY)
    client.cookies.set("keyhouse_shown_once", sealed, path="/")
    stolen = await client.get(f"/settings/security/api-keys/{other.id}/secret")
    assert stolen.status_code == 200 and SECRET_RE.search(stolen.text) is None


async def test_keys_are_filtered_searched_and_sorted_by_last_use(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    gone, _ = await make_key(database, settings, tenant.account, AccessLevel.READ_ONLY)
    await revoke_key(database, gone)
    used, secret = await make_key(database, settings, tenant.account, AccessLevel.READ_ONLY)
    await client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    async with database.transaction() as session:
        (await session.get_one(ApiKey, used.id)).last_used_at = func.now()
    await sign_in(client, tenant.admin.email, PASSWORD)
    active = (await client.get("/settings/security")).text
    assert used.name in active and gone.name not in active
    every = (await client.get("/settings/security", params={"show": "all"})).text
    assert gone.name in every and "Revoked" in every
    found = (await client.get("/settings/security", params={"q": used.name.upper()})).text
    assert found.count('data-key-id="') == 1 and used.name in found
    by_use = (await client.get("/settings/security", params={"sort": "last_used"})).text
    first_row = re.search(r'data-key-id="([^"]+)"', by_use)
    assert first_row is not None and first_row.group(1) == str(used.id)
    refused = await client.get("/settings/security", params={"show": "revoked"})
    assert refused.status_code == 422


async def test_a_disconnected_connection_stays_listed_under_all(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    await connect(client, database, settings, user=tenant.admin, access=AccessLevel.READ_ONLY)
    csrf = await sign_in(client, tenant.admin.email, PASSWORD)
    page = (await client.get("/settings/security")).text
    link = re.search(r'href="(/settings/security/connections/[^"]+/disconnect)"', page)
    assert link is not None
    done = await client.post(link.group(1), data={"csrf_token": csrf})
    assert done.status_code == 303 and "show=all" in done.headers["location"]
    after = (await client.get(done.headers["location"])).text
    row = re.search(r'<tr class="row-dim" data-connection-id=.*?</tr>', after, re.S)
    assert row is not None and "Disconnected" in row.group(0) and "/disconnect" not in row.group(0)
    active = (await client.get("/settings/security")).text
    assert "data-connection-id" not in active and "No active connections" in active
