"""A read-only key gets 403 on every route that changes workspace data, and nothing changes."""

import uuid

import httpx
from fastapi import FastAPI

from keyhouse.config import Settings
from keyhouse.db import Database
from tests.factories import make_tenant

READS_SENT_AS_POST = {"/api/v1/retrievals/preview"}


def _write_routes(app: FastAPI) -> list[tuple[str, str]]:
    paths = app.openapi()["paths"]
    return sorted(
        (method.upper(), path)
        for path, operations in paths.items()
        for method in operations
        if method != "get" and path.startswith("/api/v1") and path not in READS_SENT_AS_POST
    )


async def test_every_write_route_refuses_a_read_only_key(
    app: FastAPI, client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    routes = _write_routes(app)
    assert ("POST", "/api/v1/distributions/{distribution_id}/run") in routes
    assert ("DELETE", "/api/v1/target-books/{book_id}") in routes
    assert ("POST", "/api/v1/accounts/import") in routes
    some_id = str(uuid.uuid4())
    for method, path in routes:
        url = path.replace("{", "").replace("}", "")
        for name in ("rep_id", "account_id", "book_id", "distribution_id", "retrieval_id"):
            url = url.replace(name, some_id)
        response = await client.request(method, url, json={}, headers=tenant.read)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["error"] == "insufficient_scope"


async def test_a_read_only_key_may_preview(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    response = await client.post(
        "/api/v1/retrievals/preview",
        json={"criteria": [{"field": "fit_score", "op": "lte", "value": 10}]},
        headers=tenant.read,
    )
    assert response.status_code == 200
    assert response.json()["moves_total"] == 0
