"""Ownership history of an account, and soft deletes that the changes feed shows."""

import httpx

from keyhouse.config import Settings
from keyhouse.db import Database
from tests.factories import make_book, make_crm_account, make_rep, make_tenant


async def test_manual_owner_changes_are_recorded(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    ana = await make_rep(database, tenant.account)
    bo = await make_rep(database, tenant.account)
    account = await make_crm_account(database, tenant.account)
    path = f"/api/v1/accounts/{account.id}"
    for owner in (str(ana.id), str(bo.id), None):
        response = await client.patch(path, json={"owner_rep_id": owner}, headers=tenant.write)
        assert response.status_code == 200
    await client.patch(path, json={"tier": 2}, headers=tenant.write)  # not an owner change
    history = (await client.get(f"{path}/history", headers=tenant.read)).json()["data"]
    assert [(row["from_rep_id"], row["to_rep_id"]) for row in history] == [
        (None, str(ana.id)),
        (str(ana.id), str(bo.id)),
        (str(bo.id), None),
    ]
    assert {row["reason"] for row in history} == {"manual"}


async def test_history_of_another_accounts_account_is_not_found(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    other = await make_tenant(database, settings)
    theirs = await make_crm_account(database, other.account)
    response = await client.get(f"/api/v1/accounts/{theirs.id}/history", headers=tenant.read)
    assert response.status_code == 404


async def test_removing_an_account_shows_in_the_feed_only(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    account = await make_crm_account(database, tenant.account)
    since = (await client.get(f"/api/v1/accounts/{account.id}", headers=tenant.read)).json()[
        "updated_at"
    ]
    assert (
        await client.delete(f"/api/v1/accounts/{account.id}", headers=tenant.write)
    ).status_code == 204
    assert (
        await client.get(f"/api/v1/accounts/{account.id}", headers=tenant.read)
    ).status_code == 404
    assert (await client.get("/api/v1/accounts", headers=tenant.read)).json()["data"] == []
    feed = await client.get(
        "/api/v1/accounts", params={"updated_since": since}, headers=tenant.read
    )
    [removed] = feed.json()["data"]
    assert removed["deleted_at"] is not None
    assert removed["updated_at"] > since


async def test_removing_a_rep_returns_its_accounts_to_the_pool(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    rep = await make_rep(database, tenant.account)
    book = await make_book(database, tenant.account, reps=[rep])
    account = await make_crm_account(database, tenant.account, owner_rep_id=rep.id)
    since = (await client.get(f"/api/v1/reps/{rep.id}", headers=tenant.read)).json()["updated_at"]
    assert (await client.delete(f"/api/v1/reps/{rep.id}", headers=tenant.write)).status_code == 204
    assert (await client.get(f"/api/v1/reps/{rep.id}", headers=tenant.read)).status_code == 404
    feed = await client.get("/api/v1/reps", params={"updated_since": since}, headers=tenant.read)
    assert feed.json()["data"][0]["deleted_at"] is not None
    moved = (await client.get(f"/api/v1/accounts/{account.id}", headers=tenant.read)).json()
    assert moved["owner_rep_id"] is None
    history = await client.get(f"/api/v1/accounts/{account.id}/history", headers=tenant.read)
    assert history.json()["data"][-1]["reason"] == "rep_removed"
    members = (await client.get(f"/api/v1/target-books/{book.id}", headers=tenant.read)).json()
    assert members["rep_ids"] == []


async def test_removing_another_accounts_rep_or_account_is_not_found(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    other = await make_tenant(database, settings)
    rep = await make_rep(database, other.account)
    account = await make_crm_account(database, other.account, owner_rep_id=rep.id)
    for path in (f"/api/v1/reps/{rep.id}", f"/api/v1/accounts/{account.id}"):
        assert (await client.delete(path, headers=tenant.write)).status_code == 404
        assert (await client.get(path, headers=other.read)).status_code == 200
