"""CRM accounts through the REST API: fields, owner, filters, validation."""

import httpx

from keyhouse.config import Settings
from keyhouse.db import Database
from tests.factories import make_crm_account, make_rep, make_tenant


async def test_create_an_account_in_the_pool_then_assign_an_owner(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    rep = await make_rep(database, tenant.account)
    body = {
        "name": "Northwind",
        "industry": "Retail",
        "fit_score": 88,
        "tier": 1,
        "last_activity_at": "2026-10-01T12:00:00Z",
    }
    created = await client.post("/api/v1/accounts", json=body, headers=tenant.write)
    assert created.status_code == 201
    account = created.json()
    assert account["owner_rep_id"] is None
    assert account["last_activity_at"] == "2026-10-01T12:00:00Z"
    patched = await client.patch(
        f"/api/v1/accounts/{account['id']}",
        json={"owner_rep_id": str(rep.id)},
        headers=tenant.write,
    )
    assert patched.json()["owner_rep_id"] == str(rep.id)
    back = await client.patch(
        f"/api/v1/accounts/{account['id']}", json={"owner_rep_id": None}, headers=tenant.write
    )
    assert back.json()["owner_rep_id"] is None


async def test_out_of_range_fields_are_refused_naming_the_field(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    for field, value in (("fit_score", 101), ("tier", 0), ("employees", -1)):
        response = await client.post(
            "/api/v1/accounts", json={"name": "X", field: value}, headers=tenant.write
        )
        assert response.status_code == 422
        assert response.json()["detail"].startswith(field)
    listed = await client.get("/api/v1/accounts", headers=tenant.read)
    assert listed.json()["data"] == []


async def test_an_inactive_owner_is_refused(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    idle = await make_rep(database, tenant.account, active=False)
    response = await client.post(
        "/api/v1/accounts", json={"name": "X", "owner_rep_id": str(idle.id)}, headers=tenant.write
    )
    assert response.status_code == 422
    assert response.json()["detail"] == "owner_rep_id: the rep is inactive."


async def test_filters_by_owner_pool_tier_and_fit(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    rep = await make_rep(database, tenant.account)
    await make_crm_account(
        database, tenant.account, name="Owned", owner_rep_id=rep.id, tier=2, fit_score=40
    )
    await make_crm_account(database, tenant.account, name="Pooled", tier=1, fit_score=90)

    async def names(**params: str) -> list[str]:
        page = await client.get("/api/v1/accounts", params=params, headers=tenant.read)
        return sorted(account["name"] for account in page.json()["data"])

    assert await names(owner_rep_id=str(rep.id)) == ["Owned"]
    assert await names(in_pool="true") == ["Pooled"]
    assert await names(tier="1") == ["Pooled"]
    assert await names(min_fit_score="50") == ["Pooled"]
    assert await names() == ["Owned", "Pooled"]
