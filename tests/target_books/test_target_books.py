"""Target books through HTTP: CRUD, members, validation, the report, removal."""

import httpx

from keyhouse.config import Settings
from keyhouse.db import Database
from tests.factories import make_book, make_crm_account, make_rep, make_tenant, unique


async def test_create_a_book_with_criteria_and_reps(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    ana = await make_rep(database, tenant.account, name="Ana")
    body = {
        "name": "Enterprise",
        "max_capacity": 50,
        "criteria": [
            {"field": "employees", "op": "gte", "value": 1000},
            {"field": "region", "op": "in", "value": ["EMEA", "APAC"]},
            {"field": "last_activity_at", "op": "after", "value": "now-90d"},
        ],
        "rep_ids": [str(ana.id)],
    }
    created = await client.post("/api/v1/target-books", json=body, headers=tenant.write)
    assert created.status_code == 201, created.text
    book = created.json()
    assert book["rep_ids"] == [str(ana.id)]
    assert book["criteria"][2]["value"] == "now-90d"
    rep = (await client.get(f"/api/v1/reps/{ana.id}", headers=tenant.read)).json()
    assert rep["target_book_id"] == book["id"]
    listed = (await client.get("/api/v1/target-books", headers=tenant.read)).json()
    assert [item["name"] for item in listed["data"]] == ["Enterprise"]


async def test_bad_books_are_refused_naming_the_field(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    other = await make_tenant(database, settings)
    foreign = await make_rep(database, other.account)
    inactive = await make_rep(database, tenant.account, active=False)
    cases = [
        ({"max_capacity": -1}, "max_capacity"),
        ({"criteria": [{"field": "revenue", "op": "eq", "value": 1}]}, "revenue"),
        ({"criteria": [{"field": "region", "op": "gte", "value": "EMEA"}]}, "region"),
        ({"criteria": [{"field": "fit_score", "op": "eq", "value": "high"}]}, "fit_score"),
        ({"criteria": [{"field": "last_activity_at", "op": "before", "value": "soon"}]}, "last"),
        ({"criteria": [{"field": "annual_revenue", "op": "gte", "value": 10**30}]}, "annual"),
        ({"rep_ids": [str(foreign.id)]}, "rep_ids"),
        ({"rep_ids": [str(inactive.id)]}, "inactive"),
    ]
    for extra, named in cases:
        body = {"name": unique("Book"), "max_capacity": 5, **extra}
        response = await client.post("/api/v1/target-books", json=body, headers=tenant.write)
        assert response.status_code == 422, (extra, response.text)
        assert named in response.json()["detail"], response.text
    listed = (await client.get("/api/v1/target-books", headers=tenant.read)).json()
    assert listed["data"] == []


async def test_a_rep_belongs_to_one_book_at_most(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    rep = await make_rep(database, tenant.account)
    await make_book(database, tenant.account, reps=[rep], name="First")
    body = {"name": "Second", "max_capacity": 5, "rep_ids": [str(rep.id)]}
    response = await client.post("/api/v1/target-books", json=body, headers=tenant.write)
    assert response.status_code == 409
    assert "rep_ids" in response.json()["detail"]
    names = [
        b["name"]
        for b in (await client.get("/api/v1/target-books", headers=tenant.read)).json()["data"]
    ]
    assert names == ["First"]


async def test_updating_members_replaces_them(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    ana = await make_rep(database, tenant.account, name="Ana")
    bo = await make_rep(database, tenant.account, name="Bo")
    book = await make_book(database, tenant.account, reps=[ana])
    response = await client.patch(
        f"/api/v1/target-books/{book.id}",
        json={"rep_ids": [str(bo.id)], "max_capacity": 7},
        headers=tenant.write,
    )
    assert response.status_code == 200, response.text
    assert response.json()["rep_ids"] == [str(bo.id)]
    assert response.json()["max_capacity"] == 7
    ana_now = (await client.get(f"/api/v1/reps/{ana.id}", headers=tenant.read)).json()
    assert ana_now["target_book_id"] is None


async def test_book_report_shows_load_against_capacity(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    full = await make_rep(database, tenant.account, name="Full")
    light = await make_rep(database, tenant.account, name="Light")
    criteria = [{"field": "region", "op": "eq", "value": "EMEA"}]
    book = await make_book(
        database, tenant.account, reps=[full, light], max_capacity=2, criteria=criteria
    )
    for region in ("EMEA", "EMEA", "APAC"):
        await make_crm_account(database, tenant.account, owner_rep_id=full.id, region=region)
    await make_crm_account(database, tenant.account, owner_rep_id=light.id, region="EMEA")
    response = await client.get(f"/api/v1/target-books/{book.id}/report", headers=tenant.read)
    assert response.status_code == 200
    report = response.json()
    by_name = {row["name"]: row for row in report["reps"]}
    assert by_name["Full"]["owned_accounts"] == 3
    assert by_name["Full"]["matching_accounts"] == 2
    assert by_name["Full"]["load_pct"] == 150.0
    assert by_name["Full"]["status"] == "over"
    assert by_name["Light"]["status"] == "under"
    assert report["over_capacity"] == 1
    assert report["total_capacity"] == 4


async def test_removing_a_book_releases_its_reps_and_shows_in_the_feed(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    rep = await make_rep(database, tenant.account)
    book = await make_book(database, tenant.account, reps=[rep])
    before = (await client.get("/api/v1/target-books", headers=tenant.read)).json()["data"]
    since = before[0]["updated_at"]
    assert (
        await client.delete(f"/api/v1/target-books/{book.id}", headers=tenant.read)
    ).status_code == 403
    response = await client.delete(f"/api/v1/target-books/{book.id}", headers=tenant.write)
    assert response.status_code == 204
    assert (
        await client.get(f"/api/v1/target-books/{book.id}", headers=tenant.read)
    ).status_code == 404
    assert (await client.get("/api/v1/target-books", headers=tenant.read)).json()["data"] == []
    feed = await client.get(
        "/api/v1/target-books", params={"updated_since": since}, headers=tenant.read
    )
    assert feed.json()["data"][0]["deleted_at"] is not None
    rep_now = (await client.get(f"/api/v1/reps/{rep.id}", headers=tenant.read)).json()
    assert rep_now["target_book_id"] is None


async def test_another_accounts_book_is_not_found(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    other = await make_tenant(database, settings)
    book = await make_book(database, other.account)
    for method, path in (
        ("GET", f"/api/v1/target-books/{book.id}"),
        ("GET", f"/api/v1/target-books/{book.id}/report"),
        ("PATCH", f"/api/v1/target-books/{book.id}"),
        ("DELETE", f"/api/v1/target-books/{book.id}"),
    ):
        body = {"name": "Mine now"} if method == "PATCH" else None
        response = await client.request(method, path, json=body, headers=tenant.write)
        assert response.status_code == 404, (method, path)
