"""Access is declared on every route: walking the route table proves it."""

import httpx
from fastapi import FastAPI

from keyhouse.config import Settings
from keyhouse.db import Database
from keyhouse.users.models import Role
from tests.factories import make_tenant, make_user
from tests.routes import PUBLIC_PATHS, PUBLIC_WRITES, READ_ONLY_POSTS, endpoints
from tests.web.browsing import new_client, sign_in

ADMIN_PREFIXES = ("/api/v1/api-keys", "/api/v1/members", "/api/v1/audit-events")
ADMIN_PAGES = ("/settings/members", "/settings/audit-log", "/settings/security/api-keys")


def test_every_route_is_public_on_purpose_or_declares_access(app: FastAPI) -> None:
    undeclared = [e for e in endpoints(app) if e.access == "public" and e.path not in PUBLIC_PATHS]
    assert undeclared == []


def test_every_method_that_changes_data_declares_more_than_read(app: FastAPI) -> None:
    for endpoint in endpoints(app):
        if endpoint.method in {"POST", "PUT", "PATCH", "DELETE"}:
            if (endpoint.method, endpoint.path) in PUBLIC_WRITES | READ_ONLY_POSTS:
                continue
            assert endpoint.access in {"write", "signed_in", "admin"}, endpoint


def test_keys_members_and_the_audit_log_are_admin_only(app: FastAPI) -> None:
    managing = [e for e in endpoints(app) if e.path.startswith(ADMIN_PREFIXES + ADMIN_PAGES)]
    assert {e.path for e in managing} >= {"/api/v1/api-keys", "/settings/members"}
    for endpoint in managing:
        assert endpoint.access == "admin", endpoint


async def test_without_credentials_every_protected_route_is_401_or_a_sign_in_page(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    protected = [e for e in endpoints(app) if e.access != "public"]
    assert protected
    for endpoint in protected:
        response = await client.request(endpoint.method, endpoint.url(), json={})
        if endpoint.path.startswith("/api/"):
            assert response.status_code == 401, endpoint
            assert response.json()["error"] == "unauthorized"
        else:
            assert response.status_code == 303, endpoint
            assert response.headers["location"].startswith("/login"), endpoint
        if endpoint.access in {"read", "write"}:
            assert response.headers["www-authenticate"].startswith("Bearer")


async def test_a_read_only_key_gets_insufficient_scope_on_every_write_route(
    app: FastAPI, client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    writes = [e for e in endpoints(app) if e.access == "write"]
    assert writes
    for endpoint in writes:
        response = await client.request(
            endpoint.method, endpoint.url(), json={}, headers=tenant.read
        )
        assert response.status_code == 403, endpoint
        assert response.json()["error"] == "insufficient_scope"


async def test_no_key_can_reach_an_admin_route(
    app: FastAPI, client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    admin_routes = [e for e in endpoints(app) if e.access == "admin"]
    for endpoint in admin_routes:
        response = await client.request(
            endpoint.method, endpoint.url(), json={}, headers=tenant.write
        )
        assert response.status_code == 403, endpoint
        assert "API keys cannot manage" in response.text, endpoint


async def test_a_member_is_refused_on_every_admin_route(
    app: FastAPI, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    member, password = await make_user(database, tenant.account, Role.MEMBER)
    async with new_client(app) as browser:
        csrf = await sign_in(browser, member.email, password)
        for endpoint in [e for e in endpoints(app) if e.access == "admin"]:
            response = await browser.request(
                endpoint.method, endpoint.url(), json={}, headers={"X-CSRF-Token": csrf}
            )
            assert response.status_code == 403, endpoint
