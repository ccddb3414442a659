"""The list path (kit/listing.py): pages written from rows, never from ORM objects.

Every list route on that path is walked: each item must be exactly what its output model
writes for the same row through the ORM, on SQLite (which keeps UUIDs as hex and timestamps
as naive text) and on PostgreSQL alike.
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, get_args

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel
from sqlalchemy import event
from starlette.responses import Response

from keyhouse.audit.models import AuditEvent
from keyhouse.audit.schemas import AuditEventOut
from keyhouse.audit.service import Actor, record
from keyhouse.config import Settings
from keyhouse.crm_accounts.models import CrmAccount
from keyhouse.crm_accounts.schemas import CrmAccountOut
from keyhouse.db import Database
from keyhouse.kit.orm import Base
from keyhouse.kit.pagination import Page
from keyhouse.ownership.models import OwnershipChange
from keyhouse.ownership.schemas import OwnershipChangeOut
from keyhouse.reps.models import Rep
from keyhouse.reps.schemas import RepOut
from tests.factories import Tenant, make_crm_account, make_crm_accounts, make_rep, make_tenant
from tests.routes import endpoints
from tests.web.browsing import sign_in

# The table behind each output model served by the list path.
MODELS: dict[type[BaseModel], type[Base]] = {
    CrmAccountOut: CrmAccount,
    RepOut: Rep,
    OwnershipChangeOut: OwnershipChange,
    AuditEventOut: AuditEvent,
}
PASSWORD = "correct horse battery"  # every tenant's admin signs in with it
# A timestamp without a fraction: pydantic writes `…:05Z`, not `…:05.000000Z`.
WHOLE_SECOND = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@dataclass(frozen=True)
class ListRoute:
    """A GET route that declares a Page but answers with the bytes the list path wrote."""

    path: str
    item: type[BaseModel]


def _list_routes(app: FastAPI) -> list[ListRoute]:
    found = []
    for route in iter_route_contexts(app.routes):
        original = route.original_route
        if not isinstance(original, APIRoute) or "GET" not in (route.methods or ()):
            continue
        model = original.response_model
        returns = original.endpoint.__annotations__.get("return")
        if returns is Response and isinstance(model, type) and issubclass(model, Page):
            (item,) = get_args(model.model_fields["data"].annotation)
            found.append(ListRoute(route.path, item))
    return found


async def _workspace(
    client: httpx.AsyncClient, tenant: Tenant, database: Database
) -> dict[str, str]:
    """Rows of every shape, moved by a distribution and a retrieval; the path parameters."""
    leaving = await make_rep(database, tenant.account, name="Leaving")
    staying = await make_rep(database, tenant.account, name="Staying")
    await make_rep(database, tenant.account, active=False)
    moved = await make_crm_account(
        database, tenant.account, owner_rep_id=leaving.id, last_activity_at=WHOLE_SECOND
    )
    await make_crm_account(database, tenant.account, employees=12, annual_revenue=10**12)
    await make_crm_account(
        database, tenant.account, deleted_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    distribution = await client.post(
        "/api/v1/distributions",
        json={
            "name": "Handover",
            "type": "fixed_per_rep",
            "amount_per_rep": 5,
            "source_rep_id": str(leaving.id),
            "recipient_rep_ids": [str(staying.id)],
        },
        headers=tenant.write,
    )
    run = f"/api/v1/distributions/{distribution.json()['id']}/run"
    assert (await client.post(run, headers=tenant.write)).status_code == 200
    retrieval = await client.post(
        "/api/v1/retrievals",
        json={"name": "Back to the pool", "from_rep_ids": [str(staying.id)]},
        headers=tenant.write,
    )
    assert retrieval.status_code == 201, retrieval.text
    async with database.transaction() as session:
        details = {"ratio": 1.5, "nested": {"names": ["Zoë", None, True]}, "at": None}
        record(
            session, Actor(label="robot"), account_id=tenant.account.id, action="t", details=details
        )
    return {
        "account_id": str(moved.id),
        "distribution_id": distribution.json()["id"],
        "retrieval_id": retrieval.json()["retrieval"]["id"],
    }


async def _every_item(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], **params: str
) -> list[dict[str, Any]]:
    """All pages, two items at a time, following `next_cursor`."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {"limit": "2", **params, **({"cursor": cursor} if cursor else {})}
        response = await client.get(path, params=query, headers=headers)
        assert response.status_code == 200, (path, response.text)
        items += response.json()["data"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return items


async def _as_the_model_writes(
    database: Database, out: type[BaseModel], item_id: str
) -> dict[str, Any]:
    async with database.sessions() as session:
        row = await session.get(MODELS[out], uuid.UUID(item_id))
    return out.model_validate(row).model_dump(mode="json")


async def test_every_list_route_writes_what_its_output_model_writes(
    app: FastAPI, client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    routes = _list_routes(app)
    assert {route.path for route in routes} >= {
        "/api/v1/audit-events",
        "/api/v1/accounts",
        "/api/v1/reps",
        "/api/v1/accounts/{account_id}/history",
        "/api/v1/distributions/{distribution_id}/transfers",
        "/api/v1/retrievals/{retrieval_id}/transfers",
    }
    tenant = await make_tenant(database, settings)
    await sign_in(client, tenant.admin.email, PASSWORD)  # the audit log is for admins' sessions
    ids = await _workspace(client, tenant, database)
    access = {(e.method, e.path): e.access for e in endpoints(app)}
    for route in routes:
        out = route.item
        assert out in MODELS, f"{route.path}: add {out.__name__} and its rows to this test"
        path = route.path.format(**ids)
        headers = tenant.read if access[("GET", route.path)] == "read" else {}
        # The changes feed (updated_since) also lists removed rows.
        for params in ({}, {"updated_since": "2000-01-01T00:00:00Z"}):
            items = await _every_item(client, path, headers, **params)
            assert items, (path, params)
            for item in items:
                assert item == await _as_the_model_writes(database, out, item["id"]), path


@contextmanager
def _orm_loads(model: type[Base]) -> Iterator[list[object]]:
    loaded: list[object] = []

    def count(target: object, _context: object) -> None:
        loaded.append(target)

    event.listen(model, "load", count)
    try:
        yield loaded
    finally:
        event.remove(model, "load", count)


async def test_a_long_page_is_written_without_orm_objects_and_in_feed_order(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    made = await make_crm_accounts(database, tenant.account, 600)
    with _orm_loads(CrmAccount) as loaded:
        first = (await client.get("/api/v1/accounts?limit=500", headers=tenant.read)).json()
        cursor = first["next_cursor"]
        rest = await client.get(
            "/api/v1/accounts", params={"limit": 500, "cursor": cursor}, headers=tenant.read
        )
    assert loaded == []
    assert len(first["data"]) == 500
    rows = first["data"] + rest.json()["data"]
    assert rest.json()["next_cursor"] is None
    assert sorted(row["id"] for row in rows) == sorted(str(account.id) for account in made)
    order = [(row["updated_at"], uuid.UUID(row["id"])) for row in rows]
    assert order == sorted(order)


# Names that a LIKE pattern would confuse: `%` and `_` are wildcards there, `/` the escape.
LOOKALIKES = {
    "50%": ["Growth 50% Co", "Growth 500 Co"],
    "e_c": ["snake_case Inc", "snakeXcase Inc"],
    "a/b": ["A/B Testing", "AB Testing", "A//B Testing"],
}


async def test_searches_match_their_text_literally_in_every_searchable_list(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    for names in LOOKALIKES.values():
        for name in names:
            await make_crm_account(database, tenant.account, name=name)
            await make_rep(database, tenant.account, name=name)
    for path in ("/api/v1/accounts", "/api/v1/reps"):
        for text, (wanted, *_lookalikes) in LOOKALIKES.items():
            found = await client.get(path, params={"q": text}, headers=tenant.read)
            assert found.status_code == 200, found.text
            assert [item["name"] for item in found.json()["data"]] == [wanted], (path, text)
