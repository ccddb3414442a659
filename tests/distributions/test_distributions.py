"""Distributions through HTTP: create, preview (a read), run (a write, once, all or nothing)."""

from typing import Any

import httpx
import pytest

from keyhouse.config import Settings
from keyhouse.crm_accounts import repository as crm_accounts
from keyhouse.crm_accounts.repository import Candidate
from keyhouse.db import Database
from tests.factories import (
    Tenant,
    make_book,
    make_crm_account,
    make_crm_accounts,
    make_rep,
    make_tenant,
)


async def _create(client: httpx.AsyncClient, tenant: Tenant, **body: Any) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/distributions", json={"name": "Q3", **body}, headers=tenant.write
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def _owners(client: httpx.AsyncClient, tenant: Tenant) -> dict[str, str | None]:
    page = await client.get("/api/v1/accounts", params={"limit": 500}, headers=tenant.read)
    return {row["name"]: row["owner_rep_id"] for row in page.json()["data"]}


async def test_fixed_per_rep_deals_round_robin_in_ranking_order(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    ana = await make_rep(database, tenant.account, name="Ana")
    bo = await make_rep(database, tenant.account, name="Bo")
    await make_crm_accounts(database, tenant.account, 6)  # Co 00000 has the best fit
    distribution = await _create(
        client,
        tenant,
        type="fixed_per_rep",
        amount_per_rep=2,
        recipient_rep_ids=[str(ana.id), str(bo.id)],
        ranking=[{"field": "fit_score", "direction": "desc"}],
    )
    preview = await client.get(
        f"/api/v1/distributions/{distribution['id']}/preview", headers=tenant.read
    )
    assert preview.status_code == 200, preview.text
    moves = preview.json()["moves"]
    assert [(m["account_name"], m["to_rep_id"]) for m in moves] == [
        ("Co 00000", str(ana.id)),
        ("Co 00001", str(bo.id)),
        ("Co 00002", str(ana.id)),
        ("Co 00003", str(bo.id)),
    ]
    assert all(owner is None for owner in (await _owners(client, tenant)).values())
    run = await client.post(f"/api/v1/distributions/{distribution['id']}/run", headers=tenant.write)
    assert run.status_code == 200, run.text
    assert run.json()["distribution"]["status"] == "completed"
    assert run.json()["distribution"]["moved_count"] == 4
    owners = await _owners(client, tenant)
    assert owners["Co 00000"] == owners["Co 00002"] == str(ana.id)
    assert owners["Co 00001"] == owners["Co 00003"] == str(bo.id)
    assert owners["Co 00004"] is None


async def test_top_off_fills_to_capacity_and_says_why_a_rep_gets_none(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    light = await make_rep(database, tenant.account, name="Light")
    full = await make_rep(database, tenant.account, name="Full")
    bookless = await make_rep(database, tenant.account, name="Bookless")
    gone = await make_rep(database, tenant.account, name="Gone")
    book = await make_book(database, tenant.account, reps=[light, full, gone], max_capacity=3)
    await make_crm_account(database, tenant.account, owner_rep_id=light.id)
    for _ in range(3):
        await make_crm_account(database, tenant.account, owner_rep_id=full.id)
    await make_crm_accounts(database, tenant.account, 10)
    listed = [str(rep.id) for rep in (light, full, bookless, gone)]
    distribution = await _create(client, tenant, type="top_off", recipient_rep_ids=listed)
    await client.patch(f"/api/v1/reps/{gone.id}", json={"active": False}, headers=tenant.write)
    preview = (
        await client.get(f"/api/v1/distributions/{distribution['id']}/preview", headers=tenant.read)
    ).json()
    plans = {plan["name"]: plan for plan in preview["recipients"]}
    assert plans["Light"]["receives"] == 2
    assert plans["Full"]["skipped"] == "at_capacity"
    assert plans["Bookless"]["skipped"] == "no_target_book"
    assert plans["Gone"]["skipped"] == "inactive"
    await client.post(f"/api/v1/distributions/{distribution['id']}/run", headers=tenant.write)
    report = (
        await client.get(f"/api/v1/target-books/{book.id}/report", headers=tenant.read)
    ).json()
    assert max(rep["owned_accounts"] for rep in report["reps"]) == 3


async def test_a_books_reps_receive_accounts_matching_the_criteria(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    rep = await make_rep(database, tenant.account)
    book = await make_book(database, tenant.account, reps=[rep], max_capacity=100)
    await make_crm_accounts(database, tenant.account, 3, region="EMEA")
    await make_crm_account(database, tenant.account, name="Faraway", region="APAC")
    distribution = await _create(
        client,
        tenant,
        type="top_off",
        recipient_book_id=str(book.id),
        criteria=[{"field": "region", "op": "eq", "value": "EMEA"}],
        set_fields={"tier": 1},
    )
    run = await client.post(f"/api/v1/distributions/{distribution['id']}/run", headers=tenant.write)
    assert run.json()["plan"]["moves_total"] == 3
    owners = await _owners(client, tenant)
    assert owners["Faraway"] is None
    assert sum(owner == str(rep.id) for owner in owners.values()) == 3
    moved = (await client.get("/api/v1/accounts", params={"tier": 1}, headers=tenant.read)).json()[
        "data"
    ]
    assert len(moved) == 3


async def test_from_a_rep_to_another_and_transfers_are_recorded(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    leaving = await make_rep(database, tenant.account)
    staying = await make_rep(database, tenant.account)
    account = await make_crm_account(database, tenant.account, owner_rep_id=leaving.id)
    distribution = await _create(
        client,
        tenant,
        type="fixed_per_rep",
        amount_per_rep=5,
        source_rep_id=str(leaving.id),
        recipient_rep_ids=[str(staying.id)],
    )
    await client.post(f"/api/v1/distributions/{distribution['id']}/run", headers=tenant.write)
    transfers = await client.get(
        f"/api/v1/distributions/{distribution['id']}/transfers", headers=tenant.read
    )
    [transfer] = transfers.json()["data"]
    assert transfer["crm_account_id"] == str(account.id)
    assert transfer["from_rep_id"] == str(leaving.id)
    assert transfer["to_rep_id"] == str(staying.id)
    assert transfer["reason"] == "distribution"
    me = (await client.get("/api/v1/me", headers=tenant.write)).json()
    assert transfer["actor_key_id"] == me["credential"]["id"]
    history = await client.get(f"/api/v1/accounts/{account.id}/history", headers=tenant.read)
    assert [row["id"] for row in history.json()["data"]] == [transfer["id"]]


async def test_a_distribution_runs_once(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    rep = await make_rep(database, tenant.account)
    await make_crm_accounts(database, tenant.account, 3)
    distribution = await _create(
        client, tenant, type="fixed_per_rep", amount_per_rep=1, recipient_rep_ids=[str(rep.id)]
    )
    path = f"/api/v1/distributions/{distribution['id']}/run"
    assert (await client.post(path, headers=tenant.write)).status_code == 200
    again = await client.post(path, headers=tenant.write)
    assert again.status_code == 409
    assert again.json()["error"] == "conflict"
    owned = (await _owners(client, tenant)).values()
    assert sum(owner == str(rep.id) for owner in owned) == 1


async def test_a_failing_transfer_rolls_the_whole_run_back(
    client: httpx.AsyncClient,
    database: Database,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tenant = await make_tenant(database, settings)
    ana = await make_rep(database, tenant.account)
    bo = await make_rep(database, tenant.account)
    other = await make_rep(database, tenant.account)
    await make_crm_accounts(database, tenant.account, 3)
    taken = await make_crm_account(database, tenant.account, owner_rep_id=other.id, fit_score=0)
    real = crm_accounts.ranked_candidates

    async def with_a_stale_candidate(*args: Any, **kwargs: Any) -> list[Candidate]:
        # As if `taken` had been in the pool when planned and was assigned since.
        return [*await real(*args, **kwargs), Candidate(taken.id, taken.name, None)]

    monkeypatch.setattr(crm_accounts, "ranked_candidates", with_a_stale_candidate)
    distribution = await _create(
        client,
        tenant,
        type="fixed_per_rep",
        amount_per_rep=2,
        recipient_rep_ids=[str(ana.id), str(bo.id)],
    )
    path = f"/api/v1/distributions/{distribution['id']}"
    failed = await client.post(f"{path}/run", headers=tenant.write)
    assert failed.status_code == 409, failed.text
    owners = await _owners(client, tenant)
    assert [owners[f"Co {i:05d}"] for i in range(3)] == [None, None, None]
    assert owners[taken.name] == str(other.id)
    assert (await client.get(path, headers=tenant.read)).json()["status"] == "draft"
    assert (await client.get(f"{path}/transfers", headers=tenant.read)).json()["data"] == []
    monkeypatch.undo()
    assert (await client.post(f"{path}/run", headers=tenant.write)).status_code == 200
    assert sum(owner is not None for owner in (await _owners(client, tenant)).values()) == 4


async def test_bad_distributions_are_refused_naming_the_field(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    other = await make_tenant(database, settings)
    mine = await make_rep(database, tenant.account)
    foreign = await make_rep(database, other.account)
    foreign_book = await make_book(database, other.account)
    base = {"name": "Bad", "type": "fixed_per_rep", "amount_per_rep": 1}
    cases = [
        ({"recipient_rep_ids": [str(foreign.id)]}, "recipient_rep_ids"),
        ({"recipient_book_id": str(foreign_book.id)}, "recipient_book_id"),
        ({"recipient_rep_ids": [str(mine.id)], "source_rep_id": str(foreign.id)}, "source_rep_id"),
        ({"recipient_rep_ids": [str(mine.id)], "ranking": [{"field": "region"}]}, "region"),
        (
            {
                "recipient_rep_ids": [str(mine.id)],
                "criteria": [{"field": "x", "op": "eq", "value": 1}],
            },
            "'x'",
        ),
        ({"recipient_rep_ids": [str(mine.id)], "amount_per_rep": 0}, "amount_per_rep"),
        ({"recipient_rep_ids": [str(mine.id)], "type": "top_off"}, "amount_per_rep"),
        ({}, "recipient_rep_ids"),
        ({"recipient_rep_ids": [str(mine.id)], "set_fields": {"owner_rep_id": None}}, "owner"),
    ]
    for extra, named in cases:
        response = await client.post(
            "/api/v1/distributions", json={**base, **extra}, headers=tenant.write
        )
        assert response.status_code == 422, (extra, response.text)
        assert named in response.json()["detail"], (named, response.text)
    listed = (await client.get("/api/v1/distributions", headers=tenant.read)).json()
    assert listed["data"] == []


async def test_another_accounts_distribution_is_not_found(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    other = await make_tenant(database, settings)
    rep = await make_rep(database, other.account)
    theirs = await _create(
        client, other, type="fixed_per_rep", amount_per_rep=1, recipient_rep_ids=[str(rep.id)]
    )
    path = f"/api/v1/distributions/{theirs['id']}"
    for method, suffix in (
        ("GET", ""),
        ("GET", "/preview"),
        ("POST", "/run"),
        ("GET", "/transfers"),
    ):
        response = await client.request(method, path + suffix, headers=tenant.write)
        assert response.status_code == 404, suffix
    assert (await client.get(path, headers=other.read)).json()["status"] == "draft"
