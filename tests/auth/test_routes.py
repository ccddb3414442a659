"""Access is declared on every route: walking the route table proves it."""

import httpx
from fastapi import FastAPI

from keyhouse.config import Settings
from keyhouse.db import Database
from tests.factories import make_tenant
from tests.routes import PUBLIC_PATHS, endpoints


def test_every_route_is_public_on_purpose_or_declares_access(app: FastAPI) -> None:
    undeclared = [e for e in endpoints(app) if e.access == "public" and e.path not in PUBLIC_PATHS]
    assert undeclared == []


def test_every_method_that_changes_data_needs_write(app: FastAPI) -> None:
    for endpoint in endpoints(app):
        if endpoint.method in {"POST", "PUT", "PATCH", "DELETE"}:
            assert endpoint.access == "write", endpoint


async def test_without_credentials_every_protected_route_is_401(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    protected = [e for e in endpoints(app) if e.access != "public"]
    assert protected
    for endpoint in protected:
        response = await client.request(endpoint.method, endpoint.url(), json={})
        assert response.status_code == 401, endpoint
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
