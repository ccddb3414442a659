"""The coverage report through HTTP."""

from datetime import UTC, datetime, timedelta

import httpx

from keyhouse.config import Settings
from keyhouse.db import Database
from tests.factories import make_book, make_crm_account, make_rep, make_tenant


async def test_coverage_per_rep_and_for_the_workspace(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    ana = await make_rep(database, tenant.account, name="Ana")
    bo = await make_rep(database, tenant.account, name="Bo")
    await make_book(database, tenant.account, reps=[ana], max_capacity=4)
    now = datetime.now(UTC)
    await make_crm_account(database, tenant.account, owner_rep_id=ana.id, last_activity_at=now)
    await make_crm_account(
        database, tenant.account, owner_rep_id=ana.id, last_activity_at=now - timedelta(days=40)
    )
    await make_crm_account(database, tenant.account, owner_rep_id=bo.id)  # never touched
    await make_crm_account(database, tenant.account, fit_score=95)
    await make_crm_account(database, tenant.account, fit_score=60)
    response = await client.get("/api/v1/coverage", params={"stale_days": 30}, headers=tenant.read)
    assert response.status_code == 200, response.text
    report = response.json()
    reps = {rep["name"]: rep for rep in report["reps"]}
    assert reps["Ana"]["owned_accounts"] == 2
    assert reps["Ana"]["capacity"] == 4
    assert reps["Ana"]["load_pct"] == 50.0
    assert reps["Ana"]["stale_accounts"] == 1
    assert reps["Bo"]["capacity"] is None
    assert reps["Bo"]["stale_accounts"] == 1
    assert report["workspace"]["accounts_in_pool"] == 2
    assert report["workspace"]["unowned_high_fit"] == 1
    looser = await client.get(
        "/api/v1/coverage", params={"high_fit_score": 50, "stale_days": 90}, headers=tenant.read
    )
    assert looser.json()["workspace"]["unowned_high_fit"] == 2
    assert {rep["name"]: rep["stale_accounts"] for rep in looser.json()["reps"]}["Ana"] == 0


async def test_coverage_sees_only_the_callers_account(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    other = await make_tenant(database, settings)
    await make_rep(database, other.account)
    await make_crm_account(database, other.account)
    report = (await client.get("/api/v1/coverage", headers=tenant.read)).json()
    assert report["reps"] == []
    assert report["workspace"]["accounts_total"] == 0
    bad = await client.get("/api/v1/coverage", params={"stale_days": 0}, headers=tenant.read)
    assert bad.status_code == 422
