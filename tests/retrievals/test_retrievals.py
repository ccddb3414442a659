"""Retrievals through HTTP: accounts back to the pool by criteria, previewed then run."""

from datetime import UTC, datetime, timedelta

import httpx

from keyhouse.config import Settings
from keyhouse.db import Database
from tests.factories import make_book, make_crm_account, make_rep, make_tenant


async def test_stale_accounts_go_back_to_the_pool(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    rep = await make_rep(database, tenant.account, name="Ana")
    now = datetime.now(UTC)
    stale = await make_crm_account(
        database, tenant.account, owner_rep_id=rep.id, last_activity_at=now - timedelta(days=200)
    )
    fresh = await make_crm_account(
        database, tenant.account, owner_rep_id=rep.id, last_activity_at=now - timedelta(days=3)
    )
    spec = {
        "name": "Stale sweep",
        "from_rep_ids": [str(rep.id)],
        "criteria": [{"field": "last_activity_at", "op": "before", "value": "now-90d"}],
    }
    preview = await client.post("/api/v1/retrievals/preview", json=spec, headers=tenant.read)
    assert preview.status_code == 200, preview.text
    assert [m["crm_account_id"] for m in preview.json()["moves"]] == [str(stale.id)]
    assert preview.json()["reps"] == [{"rep_id": str(rep.id), "name": "Ana", "loses": 1}]
    still = await client.get(f"/api/v1/accounts/{stale.id}", headers=tenant.read)
    assert still.json()["owner_rep_id"] == str(rep.id)
    run = await client.post("/api/v1/retrievals", json=spec, headers=tenant.write)
    assert run.status_code == 201, run.text
    assert run.json()["retrieval"]["moved_count"] == 1
    stale_now = (await client.get(f"/api/v1/accounts/{stale.id}", headers=tenant.read)).json()
    fresh_now = (await client.get(f"/api/v1/accounts/{fresh.id}", headers=tenant.read)).json()
    assert stale_now["owner_rep_id"] is None
    assert fresh_now["owner_rep_id"] == str(rep.id)
    history = await client.get(f"/api/v1/accounts/{stale.id}/history", headers=tenant.read)
    [change] = history.json()["data"]
    assert change["reason"] == "retrieval"
    assert change["retrieval_id"] == run.json()["retrieval"]["id"]


async def test_a_cap_takes_the_lowest_ranked_first_from_a_books_reps(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    member = await make_rep(database, tenant.account)
    outsider = await make_rep(database, tenant.account)
    book = await make_book(database, tenant.account, reps=[member])
    for fit in (10, 50, 90):
        await make_crm_account(database, tenant.account, owner_rep_id=member.id, fit_score=fit)
    await make_crm_account(database, tenant.account, owner_rep_id=outsider.id, fit_score=1)
    spec = {
        "from_book_id": str(book.id),
        "ranking": [{"field": "fit_score", "direction": "asc"}],
        "max_accounts": 2,
    }
    run = await client.post("/api/v1/retrievals", json=spec, headers=tenant.write)
    assert run.status_code == 201, run.text
    pool = await client.get("/api/v1/accounts", params={"in_pool": True}, headers=tenant.read)
    assert sorted(row["fit_score"] for row in pool.json()["data"]) == [10, 50]


async def test_bad_retrievals_are_refused_and_move_nothing(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    other = await make_tenant(database, settings)
    foreign = await make_rep(database, other.account)
    mine = await make_rep(database, tenant.account)
    await make_crm_account(database, tenant.account, owner_rep_id=mine.id)
    cases = [
        ({"from_rep_ids": [str(foreign.id)]}, "from_rep_ids"),
        ({}, "criteria"),
        ({"criteria": [{"field": "owner", "op": "eq", "value": "x"}]}, "owner"),
        ({"from_rep_ids": [str(mine.id)], "ranking": [{"field": "industry"}]}, "industry"),
        ({"from_rep_ids": [str(mine.id)], "max_accounts": 0}, "max_accounts"),
    ]
    for spec, named in cases:
        response = await client.post("/api/v1/retrievals", json=spec, headers=tenant.write)
        assert response.status_code == 422, (spec, response.text)
        assert named in response.json()["detail"]
    pool = await client.get("/api/v1/accounts", params={"in_pool": True}, headers=tenant.read)
    assert pool.json()["data"] == []
    assert (await client.get("/api/v1/retrievals", headers=tenant.read)).json()["data"] == []


async def test_another_accounts_retrieval_is_not_found(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    other = await make_tenant(database, settings)
    rep = await make_rep(database, other.account)
    run = await client.post(
        "/api/v1/retrievals", json={"from_rep_ids": [str(rep.id)]}, headers=other.write
    )
    path = f"/api/v1/retrievals/{run.json()['retrieval']['id']}"
    assert (await client.get(path, headers=tenant.read)).status_code == 404
    assert (await client.get(f"{path}/transfers", headers=tenant.read)).status_code == 404
    assert (await client.get(path, headers=other.read)).status_code == 200
