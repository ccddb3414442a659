"""Bad input gets a clear 4xx with the JSON error shape and changes nothing; never a 500."""

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from keyhouse.api_keys.models import ApiKey
from keyhouse.audit.models import AuditEvent
from keyhouse.config import Settings
from keyhouse.crm_accounts.models import CrmAccount
from keyhouse.db import Database
from keyhouse.reps.models import Rep
from keyhouse.users.models import User
from tests.factories import make_tenant
from tests.routes import endpoints
from tests.web.browsing import sign_in

GARBAGE_BODIES: list[dict[str, object]] = [
    {"content": b"{not json", "headers": {"content-type": "application/json"}},
    {"content": b"[1, 2, 3]", "headers": {"content-type": "application/json"}},
    {"json": {"name": 12, "email": ["x"], "fit_score": "high", "tier": 99}},
    {"json": {"unknown_field": True}},
    {"json": {"name": None, "email": None, "active": None}},
    {"json": {"name": "x" * 10_000}},
    {"json": {"name": "\x00\ud7ff", "owner_rep_id": "not-a-uuid"}},
    {"content": b"\xff\xfe\x00garbage", "headers": {"content-type": "application/json"}},
    {"content": b"name=x", "headers": {"content-type": "application/x-www-form-urlencoded"}},
]
GARBAGE_QUERIES = [
    {"cursor": "not-a-cursor"},
    {"cursor": "W10"},  # base64 of "[]"
    {"limit": "0"},
    {"limit": "100000"},
    {"updated_since": "yesterday"},
    {"updated_since": "2026-01-01T00:00:00"},
    {"active": "maybe", "tier": "x", "min_fit_score": "-1"},
]


async def _row_counts(database: Database) -> tuple[int, int]:
    async with database.sessions() as session:
        reps = await session.scalar(select(func.count()).select_from(Rep))
        accounts = await session.scalar(select(func.count()).select_from(CrmAccount))
    return reps or 0, accounts or 0


def _assert_clear_client_error(response: httpx.Response, label: str) -> None:
    assert 400 <= response.status_code < 500, (label, response.status_code, response.text)
    body = response.json()
    assert set(body) == {"error", "detail"}, (label, body)
    assert body["detail"], label


def _is_list(path: str) -> bool:
    return path in {"/api/v1/reps", "/api/v1/accounts"}


async def test_garbage_on_every_route_is_a_4xx_and_writes_nothing(
    app: FastAPI, client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    before = await _row_counts(database)
    for endpoint in endpoints(app):
        if endpoint.access not in {"read", "write"}:
            continue
        has_id = "{" in endpoint.path
        url = endpoint.url().replace("-", "z", 1)  # never a UUID
        for body in GARBAGE_BODIES if endpoint.method != "GET" else [{}]:
            for params in [*GARBAGE_QUERIES, {}]:
                response = await client.request(
                    endpoint.method,
                    url,
                    params=params,
                    headers={**tenant.write, **body.get("headers", {})},  # type: ignore[dict-item]
                    content=body.get("content"),  # type: ignore[arg-type]
                    json=body.get("json"),
                )
                label = f"{endpoint} {params} {body}"
                must_fail = (
                    has_id or endpoint.method != "GET" or (params and _is_list(endpoint.path))
                )
                assert response.status_code < 500, label
                if must_fail:
                    _assert_clear_client_error(response, label)
    assert await _row_counts(database) == before


async def _access_counts(database: Database) -> tuple[int, int, int]:
    async with database.sessions() as session:
        keys = await session.scalar(select(func.count()).select_from(ApiKey))
        users = await session.scalar(select(func.count()).select_from(User))
        events = await session.scalar(select(func.count()).select_from(AuditEvent))
    return keys or 0, users or 0, events or 0


async def test_garbage_from_a_signed_in_admin_is_a_4xx_and_changes_no_access(
    app: FastAPI, client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    csrf = await sign_in(client, tenant.admin.email, "correct horse battery")
    before = await _access_counts(database)
    for endpoint in endpoints(app):
        if endpoint.access not in {"signed_in", "admin"} or endpoint.path == "/logout":
            continue
        url = endpoint.url().replace("-", "z", 1)  # never a UUID
        for body in GARBAGE_BODIES if endpoint.method != "GET" else [{}]:
            for params in [*GARBAGE_QUERIES, {}]:
                headers = {"X-CSRF-Token": csrf, **body.get("headers", {})}  # type: ignore[dict-item]
                response = await client.request(
                    endpoint.method,
                    url,
                    params=params,
                    headers=headers,
                    content=body.get("content"),  # type: ignore[arg-type]
                    json=body.get("json"),
                )
                label = f"{endpoint} {params} {body}"
                assert response.status_code < 500, label
                if "{" in endpoint.path or endpoint.method != "GET":
                    assert 400 <= response.status_code < 500, (label, response.text)
                if endpoint.path.startswith("/api/") and response.status_code >= 400:
                    _assert_clear_client_error(response, label)
    assert await _access_counts(database) == before


async def test_an_oversize_body_is_413(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    huge = b'{"name": "' + b"x" * (settings.max_body_bytes + 1) + b'"}'
    response = await client.post(
        "/api/v1/reps", content=huge, headers={**tenant.write, "content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


async def test_an_unknown_route_is_a_json_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
