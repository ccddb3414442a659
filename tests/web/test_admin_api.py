"""The admin JSON API: session cookie + X-CSRF-Token, never an API key."""

from datetime import UTC, datetime

import httpx
from fastapi import FastAPI

from keyhouse.audit.service import Actor, record
from keyhouse.config import Settings
from keyhouse.db import Database
from keyhouse.users.models import Role
from tests.factories import make_tenant, make_user, unique
from tests.storage import database_contains
from tests.web.browsing import new_client, sign_in

PASSWORD = "correct horse battery"


async def test_keys_are_created_listed_and_revoked_over_json(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    csrf = await sign_in(client, tenant.admin.email, PASSWORD)
    body = {"name": "Sync job", "access_level": "read_only", "expires_in_days": 30}
    refused = await client.post("/api/v1/api-keys", json=body)
    assert refused.status_code == 403 and refused.json()["error"] == "csrf_failed"
    created = await client.post("/api/v1/api-keys", json=body, headers={"X-CSRF-Token": csrf})
    assert created.status_code == 201 and created.headers["cache-control"] == "no-store"
    key = created.json()
    assert key["secret"].startswith("kh_key_") and key["expires_at"] is not None
    listed = (await client.get("/api/v1/api-keys")).json()
    mine = next(item for item in listed if item["id"] == key["id"])
    assert mine["created_by"] == tenant.admin.email and "secret" not in mine
    assert key["secret"] not in str(listed)
    assert await database_contains(database, key["secret"][8:40]) == []
    auth = {"Authorization": f"Bearer {key['secret']}"}
    assert (await client.get("/api/v1/me", headers=auth)).status_code == 200
    revoked = await client.post(
        f"/api/v1/api-keys/{key['id']}/revoke", headers={"X-CSRF-Token": csrf}
    )
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert (await client.get("/api/v1/me", headers=auth)).status_code == 401


async def test_bad_key_input_is_422_and_changes_nothing(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    csrf = await sign_in(client, tenant.admin.email, PASSWORD)
    before = (await client.get("/api/v1/api-keys")).json()
    for body in (
        {"name": "", "access_level": "read_only"},
        {"name": "x", "access_level": "admin"},
        {"name": "x", "access_level": "read_only", "expires_in_days": 0},
        {"name": "x", "access_level": "read_only", "extra": 1},
    ):
        response = await client.post("/api/v1/api-keys", json=body, headers={"X-CSRF-Token": csrf})
        assert response.status_code == 422, body
        assert response.json()["error"] == "invalid_input"
    assert (await client.get("/api/v1/api-keys")).json() == before


async def test_members_are_added_changed_and_the_last_admin_is_kept(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    headers = {"X-CSRF-Token": await sign_in(client, tenant.admin.email, PASSWORD)}
    email = f"{unique('api')}@example.com"
    added = await client.post(
        "/api/v1/members", json={"email": email, "role": "member"}, headers=headers
    )
    assert added.status_code == 201
    member = added.json()
    assert member["status"] == "invited"
    assert member["invitation_url"].startswith(f"{settings.base_url}/invite/kh_iv_")
    listed = (await client.get("/api/v1/members")).json()
    assert {m["email"] for m in listed} == {tenant.admin.email, email}
    assert all("invitation_url" not in m and "password_hash" not in m for m in listed)
    promoted = await client.patch(
        f"/api/v1/members/{member['id']}", json={"role": "admin"}, headers=headers
    )
    assert promoted.json()["role"] == "admin"
    off = await client.patch(
        f"/api/v1/members/{member['id']}", json={"active": False}, headers=headers
    )
    assert off.json()["status"] == "deactivated"
    last = await client.patch(
        f"/api/v1/members/{tenant.admin.id}", json={"role": "member"}, headers=headers
    )
    assert last.status_code == 409 and "at least one active admin" in last.json()["detail"]
    null = await client.patch(
        f"/api/v1/members/{member['id']}", json={"role": None}, headers=headers
    )
    assert null.status_code == 422


async def test_the_audit_log_filters_and_pages_with_a_cursor(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    await sign_in(client, tenant.admin.email, PASSWORD)
    async with database.transaction() as session:
        for number in range(7):
            record(
                session,
                Actor(label="robot"),
                account_id=tenant.account.id,
                action="test.ping",
                details={"n": number, "at": datetime.now(UTC).isoformat()},
            )
    first = (
        await client.get("/api/v1/audit-events", params={"action": "test.ping", "limit": 5})
    ).json()
    assert len(first["data"]) == 5 and first["next_cursor"]
    second = (
        await client.get(
            "/api/v1/audit-events",
            params={"action": "test.ping", "limit": 5, "cursor": first["next_cursor"]},
        )
    ).json()
    assert len(second["data"]) == 2 and second["next_cursor"] is None
    seen = [event["details"]["n"] for event in first["data"] + second["data"]]
    assert sorted(seen) == list(range(7))
    by_actor = (await client.get("/api/v1/audit-events", params={"actor": "robot"})).json()
    assert {event["actor"] for event in by_actor["data"]} == {"robot"}
    mine = (await client.get("/api/v1/audit-events", params={"actor": tenant.admin.email})).json()
    assert [event["action"] for event in mine["data"]] == ["user.signed_in"]
    bad = await client.get("/api/v1/audit-events", params={"cursor": "nonsense"})
    assert bad.status_code == 400


async def test_the_audit_log_page_filters_by_action_and_actor(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    await sign_in(client, tenant.admin.email, PASSWORD)
    async with database.transaction() as session:
        for _ in range(55):
            record(session, Actor(label="robot"), account_id=tenant.account.id, action="test.ping")
    page = await client.get("/settings/audit-log")
    assert page.status_code == 200
    assert "user.signed_in" in page.text and "api_key.created" in page.text
    assert 'option value="robot"' in page.text and "Older →" in page.text
    filtered = await client.get(
        "/settings/audit-log", params={"action": "user.signed_in", "actor": tenant.admin.email}
    )
    assert filtered.text.count('data-action="user.signed_in"') == 1
    assert 'data-action="test.ping"' not in filtered.text


async def test_a_member_gets_403_on_the_admin_api(
    app: FastAPI, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    member, password = await make_user(database, tenant.account, Role.MEMBER)
    async with new_client(app) as browser:
        csrf = await sign_in(browser, member.email, password)
        for path in ("/api/v1/api-keys", "/api/v1/members", "/api/v1/audit-events"):
            response = await browser.get(path)
            assert response.status_code == 403
            assert response.json() == {
                "error": "forbidden",
                "detail": "Only account admins can do this.",
            }
        created = await browser.post(
            "/api/v1/api-keys",
            json={"name": "x", "access_level": "full_access"},
            headers={"X-CSRF-Token": csrf},
        )
        assert created.status_code == 403
