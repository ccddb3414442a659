"""Connections over JSON: admins see and disconnect all, members see their own, keys nothing."""

import uuid

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from keyhouse.api_keys.models import AccessLevel
from keyhouse.audit.models import AuditEvent
from keyhouse.config import Settings
from keyhouse.connections import service as connections
from keyhouse.db import Database
from keyhouse.users.models import Role
from tests.factories import make_tenant, make_user
from tests.oauth_flow import connect
from tests.web.browsing import new_client, sign_in

PASSWORD = "correct horse battery"
TOOLS_LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
MCP_HEADERS = {
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-06-18",
}


async def test_an_admin_lists_and_disconnects_a_members_connection(
    app: FastAPI, client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    member, member_password = await make_user(database, tenant.account, Role.MEMBER)
    mine = await connect(
        client, database, settings, user=tenant.admin, access=AccessLevel.FULL_ACCESS
    )
    theirs = await connect(client, database, settings, user=member, access=AccessLevel.READ_ONLY)
    async with new_client(app, origin=settings.base_url) as member_browser:
        member_csrf = await sign_in(member_browser, member.email, member_password)
        own = (await member_browser.get("/api/v1/connections")).json()
        assert [c["user_email"] for c in own] == [member.email]
        refused = await member_browser.post(
            f"/api/v1/connections/{own[0]['id']}/disconnect", headers={"X-CSRF-Token": member_csrf}
        )
        assert refused.status_code == 403
    async with new_client(app, origin=settings.base_url) as admin_browser:
        csrf = await sign_in(admin_browser, tenant.admin.email, PASSWORD)
        listed = (await admin_browser.get("/api/v1/connections")).json()
        assert {c["user_email"] for c in listed} == {member.email, tenant.admin.email}
        done = await admin_browser.post(
            f"/api/v1/connections/{own[0]['id']}/disconnect", headers={"X-CSRF-Token": csrf}
        )
        assert done.status_code == 200 and done.json()["revoked_reason"] == "disconnected"
    refused_mcp = await client.post(
        "/mcp", json=TOOLS_LIST, headers={**theirs.bearer, **MCP_HEADERS}
    )
    assert refused_mcp.status_code == 401
    still = await client.post("/mcp", json=TOOLS_LIST, headers={**mine.bearer, **MCP_HEADERS})
    assert still.status_code == 200
    async with database.sessions() as session:
        actors = (
            await session.scalars(
                select(AuditEvent.actor).where(
                    AuditEvent.action == "connection.disconnected",
                    AuditEvent.subject_id == uuid.UUID(own[0]["id"]),
                )
            )
        ).all()
    assert actors == [tenant.admin.email]


async def test_api_keys_cannot_list_or_disconnect_connections(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    for method, url in (
        ("GET", "/api/v1/connections"),
        ("POST", f"/api/v1/connections/{uuid.uuid4()}/disconnect"),
    ):
        refused = await client.request(method, url, headers=tenant.write)
        assert refused.status_code == 403, url
        assert "API keys cannot" in refused.json()["detail"]


async def test_reconnecting_the_same_assistant_replaces_the_older_connection(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    first = await connect(
        client, database, settings, user=tenant.admin, access=AccessLevel.READ_ONLY
    )
    second = await connect(
        client, database, settings, user=tenant.admin, access=AccessLevel.FULL_ACCESS
    )
    old = await client.post("/mcp", json=TOOLS_LIST, headers={**first.bearer, **MCP_HEADERS})
    new = await client.post("/mcp", json=TOOLS_LIST, headers={**second.bearer, **MCP_HEADERS})
    assert (old.status_code, new.status_code) == (401, 200)
    async with database.sessions() as session:
        views = await connections.list_connections(session, account_id=tenant.account.id)
    assert sorted(view.connection.revoked_reason or "live" for view in views) == [
        "live",
        "replaced",
    ]
