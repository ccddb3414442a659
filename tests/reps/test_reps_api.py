"""Reps through the REST API: create, read, update, list as a changes feed."""

import uuid

import httpx

from keyhouse.config import Settings
from keyhouse.db import Database
from tests.factories import make_rep, make_tenant


async def test_create_get_and_update_a_rep(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    created = await client.post(
        "/api/v1/reps", json={"name": "Nia Ross", "email": "Nia@Example.com"}, headers=tenant.write
    )
    assert created.status_code == 201
    rep = created.json()
    assert (rep["email"], rep["active"]) == ("nia@example.com", True)
    fetched = await client.get(f"/api/v1/reps/{rep['id']}", headers=tenant.read)
    assert fetched.json() == rep
    patched = await client.patch(
        f"/api/v1/reps/{rep['id']}", json={"active": False}, headers=tenant.write
    )
    assert patched.status_code == 200
    assert patched.json()["active"] is False
    assert patched.json()["name"] == "Nia Ross"
    assert patched.json()["updated_at"] > rep["updated_at"]


async def test_a_duplicate_email_is_a_conflict_naming_the_field(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    rep = await make_rep(database, tenant.account)
    response = await client.post(
        "/api/v1/reps", json={"name": "Other", "email": rep.email}, headers=tenant.write
    )
    assert response.status_code == 409
    assert response.json()["detail"].startswith("email:")


async def test_null_for_a_required_field_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    rep = await make_rep(database, tenant.account, name="Kept Name")
    response = await client.patch(
        f"/api/v1/reps/{rep.id}", json={"name": None}, headers=tenant.write
    )
    assert response.status_code == 422
    assert "name cannot be null" in response.json()["detail"]
    fetched = await client.get(f"/api/v1/reps/{rep.id}", headers=tenant.read)
    assert fetched.json()["name"] == "Kept Name"


async def test_the_list_pages_through_every_rep_once_with_a_cursor(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    made = {str((await make_rep(database, tenant.account)).id) for _ in range(7)}
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/reps", params=params, headers=tenant.read)).json()
        seen += [rep["id"] for rep in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(made)


async def test_updated_since_returns_only_what_changed(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    old = await make_rep(database, tenant.account)
    changed = await make_rep(database, tenant.account)
    mark = (await client.get(f"/api/v1/reps/{changed.id}", headers=tenant.read)).json()
    await client.patch(f"/api/v1/reps/{changed.id}", json={"name": "Renamed"}, headers=tenant.write)
    response = await client.get(
        "/api/v1/reps", params={"updated_since": mark["updated_at"]}, headers=tenant.read
    )
    ids = [rep["id"] for rep in response.json()["data"]]
    assert ids == [str(changed.id)]
    assert str(old.id) not in ids


async def test_filters_narrow_the_list(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    await make_rep(database, tenant.account, name="Active Alice")
    await make_rep(database, tenant.account, name="Idle Ian", active=False)
    inactive = await client.get("/api/v1/reps", params={"active": "false"}, headers=tenant.read)
    assert [rep["name"] for rep in inactive.json()["data"]] == ["Idle Ian"]
    search = await client.get("/api/v1/reps", params={"q": "alice"}, headers=tenant.read)
    assert [rep["name"] for rep in search.json()["data"]] == ["Active Alice"]


async def test_an_unknown_rep_is_404(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    response = await client.get(f"/api/v1/reps/{uuid.uuid4()}", headers=tenant.read)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
