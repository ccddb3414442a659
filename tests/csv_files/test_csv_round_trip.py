"""An export imported back unchanged is a no-op; an edited export writes only the edited lines."""

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from keyhouse.config import Settings
from keyhouse.db import Database
from keyhouse.reps.models import Rep
from tests.factories import Tenant, make_crm_account, make_rep, make_tenant

CSV = {"Content-Type": "text/csv"}
ACCOUNTS = 300
NAMES = ("Acme, Inc.", 'The "Quoted" Co', "Two\nLines Ltd", "Zürich Ærø GmbH", "  Padded  ")


async def _workspace(database: Database, settings: Settings) -> tuple[Tenant, Rep, Rep]:
    """A few hundred varied accounts: pooled, owned by an active rep, owned by an inactive one."""
    tenant = await make_tenant(database, settings)
    active = await make_rep(database, tenant.account, email="ana@example.com")
    inactive = await make_rep(database, tenant.account, email="gone@example.com", active=False)
    activity = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
    for index in range(ACCOUNTS):
        await make_crm_account(
            database,
            tenant.account,
            name=f"{NAMES[index % len(NAMES)].strip()} {index:03d}",
            domain=f"co{index}.example" if index % 3 else None,
            industry=("Software", "Retail", "")[index % 3],
            region=None if index % 4 == 0 else "EMEA",
            employees=index * 7 if index % 2 else None,
            annual_revenue=index * 1_000_003 if index % 5 else None,
            fit_score=index % 101,
            tier=index % 5 + 1,
            last_activity_at=activity + timedelta(hours=index) if index % 6 else None,
            owner_rep_id=(None, active.id, inactive.id)[index % 3],
        )
    return tenant, active, inactive


async def _export(client: httpx.AsyncClient, tenant: Tenant) -> str:
    response = await client.get("/api/v1/accounts/export.csv", headers=tenant.read)
    assert response.status_code == 200
    return response.text


async def _import(client: httpx.AsyncClient, tenant: Tenant, body: str) -> httpx.Response:
    return await client.post(
        "/api/v1/accounts/import", content=body, headers={**tenant.write, **CSV}
    )


async def _changed_since(
    client: httpx.AsyncClient, tenant: Tenant, since: datetime
) -> list[dict[str, Any]]:
    """Every account the changes feed lists as changed since `since`, following the cursor."""
    params: dict[str, Any] = {"updated_since": since.isoformat(), "limit": 500}
    changed: list[dict[str, Any]] = []
    while True:
        page = (await client.get("/api/v1/accounts", params=params, headers=tenant.read)).json()
        changed += page["data"]
        if page["next_cursor"] is None:
            return changed
        params["cursor"] = page["next_cursor"]


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _first(rows: list[dict[str, str]], *, owner_email: str, after: int) -> int:
    return next(i for i, row in enumerate(rows) if i > after and row["owner_email"] == owner_email)


def _line_of(rows: list[dict[str, str]], index: int) -> int:
    """The line a row starts on in `_csv(rows)`: names may span lines."""
    return _csv(rows[:index], columns=list(rows[0])).count("\n") + 1


def _csv(rows: list[dict[str, str]], columns: list[str] | None = None) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns or list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


async def test_importing_an_export_unchanged_changes_nothing(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant, _active, inactive = await _workspace(database, settings)
    exported = await _export(client, tenant)
    assert sum(row["owner_email"] == inactive.email for row in _rows(exported)) == ACCOUNTS // 3
    before = datetime.now(UTC)
    response = await _import(client, tenant, exported)
    assert response.status_code == 200, response.text[:500]
    report = response.json()
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, ACCOUNTS)
    assert (report["rejected"], report["errors"]) == (0, [])
    assert await _export(client, tenant) == exported  # every updated_at as it was
    assert await _changed_since(client, tenant, before) == []
    owned = _rows(exported)[_first(_rows(exported), owner_email=inactive.email, after=0)]
    history = await client.get(f"/api/v1/accounts/{owned['id']}/history", headers=tenant.read)
    assert history.json()["data"] == []


async def test_editing_three_lines_of_an_export_writes_only_those_three(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant, active, inactive = await _workspace(database, settings)
    rows = _rows(await _export(client, tenant))
    pooled = _first(rows, owner_email="", after=200)
    held = _first(rows, owner_email=inactive.email, after=100)
    edited = {7: {"region": "APAC"}, held: {"owner_email": "", "owner_rep_id": ""}}
    edited[pooled] = {"owner_email": active.email, "owner_rep_id": str(active.id)}
    changed = [{**row, **edited.get(index, {})} for index, row in enumerate(rows)]
    before = datetime.now(UTC)
    response = await _import(client, tenant, _csv(changed))
    assert response.status_code == 200, response.text[:500]
    report = response.json()
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 3, ACCOUNTS - 3)
    after = {row["id"]: row for row in _rows(await _export(client, tenant))}
    moved = {row["id"] for row in rows if after[row["id"]]["updated_at"] != row["updated_at"]}
    assert moved == {rows[index]["id"] for index in edited}
    assert {row["id"] for row in await _changed_since(client, tenant, before)} == moved
    assert after[rows[7]["id"]]["region"] == "APAC"
    assert after[rows[held]["id"]]["owner_email"] == ""
    assert after[rows[pooled]["id"]]["owner_email"] == active.email
    history = await client.get(f"/api/v1/accounts/{rows[held]['id']}/history", headers=tenant.read)
    [change] = history.json()["data"]
    assert (change["from_rep_id"], change["to_rep_id"], change["reason"]) == (
        str(inactive.id),
        None,
        "import",
    )


async def test_giving_an_account_to_an_inactive_rep_is_refused_naming_line_and_column(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant, _active, inactive = await _workspace(database, settings)
    exported = await _export(client, tenant)
    rows = _rows(exported)
    pooled, owned = (
        _first(rows, owner_email="", after=0),
        _first(rows, owner_email="ana@example.com", after=0),
    )
    rows[pooled] |= {"owner_email": inactive.email, "owner_rep_id": str(inactive.id)}
    rows[owned] |= {"owner_email": "", "owner_rep_id": str(inactive.id)}
    response = await _import(client, tenant, _csv(rows))
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_input"
    assert (
        f"line {_line_of(rows, pooled)}: owner_email: rep {inactive.email} is inactive"
        in body["detail"]
    )
    assert (
        f"line {_line_of(rows, owned)}: owner_rep_id: rep {inactive.email} is inactive"
        in body["detail"]
    )
    assert await _export(client, tenant) == exported
    new = f"name,owner_email\nFresh Co,{inactive.email}\n"
    refused = await _import(client, tenant, new)
    assert refused.status_code == 422
    assert "line 2: owner_email:" in refused.json()["detail"]


async def test_patching_an_account_with_its_inactive_owner_is_no_change(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    rep = await make_rep(database, tenant.account, active=False)
    account = await make_crm_account(database, tenant.account, owner_rep_id=rep.id)
    kept = await client.patch(
        f"/api/v1/accounts/{account.id}",
        json={"owner_rep_id": str(rep.id), "tier": 2},
        headers=tenant.write,
    )
    assert kept.status_code == 200, kept.text
    assert (kept.json()["owner_rep_id"], kept.json()["tier"]) == (str(rep.id), 2)
    history = await client.get(f"/api/v1/accounts/{account.id}/history", headers=tenant.read)
    assert history.json()["data"] == []
    pooled = await make_crm_account(database, tenant.account)
    refused = await client.patch(
        f"/api/v1/accounts/{pooled.id}", json={"owner_rep_id": str(rep.id)}, headers=tenant.write
    )
    assert refused.status_code == 422
    assert refused.json()["detail"].startswith("owner_rep_id:")


async def test_importing_the_same_reps_twice_reports_them_unchanged(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    body = "name,email,active\nAna,Ana@Example.com,true\nBo,bo@example.com,false\n"
    first = await client.post("/api/v1/reps/import", content=body, headers={**tenant.write, **CSV})
    assert (first.json()["created"], first.json()["unchanged"]) == (2, 0)
    listed = (await client.get("/api/v1/reps", headers=tenant.read)).json()["data"]
    again = await client.post("/api/v1/reps/import", content=body, headers={**tenant.write, **CSV})
    report = again.json()
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, 2)
    assert (await client.get("/api/v1/reps", headers=tenant.read)).json()["data"] == listed
