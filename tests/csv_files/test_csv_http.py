"""CSV import (all or nothing, line-numbered errors) and streamed export, through HTTP."""

import asyncio
import csv
import io

import httpx
from fastapi import FastAPI
from starlette.types import Message

from keyhouse.config import Settings
from keyhouse.db import Database
from tests.factories import make_crm_accounts, make_rep, make_tenant

CSV = {"Content-Type": "text/csv"}


async def test_one_bad_line_and_nothing_is_imported(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    await make_rep(database, tenant.account, email="ana@example.com")
    body = (
        "name,fit_score,owner_email\n"
        "Acme,90,ana@example.com\n"
        "Broken,101,\n"
        "Orphan,50,nobody@example.com\n"
        "Fine,10,\n"
    )
    response = await client.post(
        "/api/v1/accounts/import", content=body, headers={**tenant.write, **CSV}
    )
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "line 3: fit_score" in detail
    assert "line 4: owner_email" in detail
    assert (await client.get("/api/v1/accounts", headers=tenant.read)).json()["data"] == []


async def test_skip_invalid_imports_the_good_lines_and_lists_the_bad(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    rep = await make_rep(database, tenant.account, email="ana@example.com")
    body = 'name,tier,owner_email\nAcme,1,ana@example.com\n"Two\nlines",9,\n,2,\nFine,,\n'
    files = {"file": ("accounts.csv", body.encode(), "text/csv")}
    response = await client.post(
        "/api/v1/accounts/import",
        params={"skip_invalid": True},
        files=files,
        headers=tenant.write,
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["created"], report["rejected"]) == (2, 2)
    assert [(error["line"], error["reason"].split(":")[0]) for error in report["errors"]] == [
        (3, "tier"),
        (5, "name"),
    ]
    owned = await client.get(
        "/api/v1/accounts", params={"owner_rep_id": str(rep.id)}, headers=tenant.read
    )
    [acme] = owned.json()["data"]
    history = await client.get(f"/api/v1/accounts/{acme['id']}/history", headers=tenant.read)
    assert history.json()["data"][0]["reason"] == "import"


async def test_a_bad_header_is_refused(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    for body, named in (("nom,tier\nAcme,1\n", "nom"), ("tier\n1\n", "name"), ("", "empty")):
        response = await client.post(
            "/api/v1/accounts/import", content=body, headers={**tenant.write, **CSV}
        )
        assert response.status_code == 422
        assert named in response.json()["detail"]


async def _streamed_body(app: FastAPI, path: str, headers: dict[str, str]) -> list[bytes]:
    """The body messages the app sends, as a server would pass them on one by one."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(name.lower().encode(), value.encode()) for name, value in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    sent: list[Message] = []
    requested = False

    async def receive() -> Message:
        nonlocal requested
        if requested:  # the client stays connected until the response ends
            await asyncio.Event().wait()
        requested = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    assert sent[0]["status"] == 200
    assert dict(sent[0]["headers"])[b"content-type"].startswith(b"text/csv")
    return [m["body"] for m in sent if m["type"] == "http.response.body" and m.get("body")]


async def test_export_streams_every_account_and_imports_back_as_updates(
    app: FastAPI, client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    await make_crm_accounts(database, tenant.account, 2500, region="EMEA")
    other = await make_tenant(database, settings)
    await make_crm_accounts(database, other.account, 3)
    chunks = await _streamed_body(app, "/api/v1/accounts/export.csv", tenant.read)
    assert len(chunks) == 4  # the header, then one chunk per 1,000 rows
    rows = list(csv.DictReader(io.StringIO(b"".join(chunks).decode())))
    assert len(rows) == 2500
    assert {row["region"] for row in rows} == {"EMEA"}
    changed = io.StringIO()
    writer = csv.DictWriter(changed, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows({**row, "region": "APAC"} for row in rows)
    response = await client.post(
        "/api/v1/accounts/import", content=changed.getvalue(), headers={**tenant.write, **CSV}
    )
    assert response.status_code == 200, response.text[:500]
    assert (response.json()["created"], response.json()["updated"]) == (0, 2500)
    apac = await client.get("/api/v1/accounts", params={"region": "APAC"}, headers=tenant.read)
    assert len(apac.json()["data"]) == 100


async def test_imports_may_be_larger_than_the_general_body_limit(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    line = f"{'N' * 190},{'d' * 240}.example\n"
    body = "name,domain\n" + line * (settings.max_body_bytes // len(line) + 50)
    assert len(body) > settings.max_body_bytes
    response = await client.post(
        "/api/v1/accounts/import", content=body, headers={**tenant.write, **CSV}
    )
    assert response.status_code == 200, response.text[:300]
    elsewhere = await client.post(
        "/api/v1/reps", content=body, headers={**tenant.write, "Content-Type": "application/json"}
    )
    assert elsewhere.status_code == 413


async def test_reps_import_creates_and_updates_by_email(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    await make_rep(database, tenant.account, name="Old Name", email="ana@example.com")
    body = "name,email,active\nAna Diaz,ANA@example.com,true\nBo,bo@example.com,false\n"
    response = await client.post(
        "/api/v1/reps/import", content=body, headers={**tenant.write, **CSV}
    )
    assert response.status_code == 200, response.text
    assert (response.json()["created"], response.json()["updated"]) == (1, 1)
    reps = (await client.get("/api/v1/reps", headers=tenant.read)).json()["data"]
    assert sorted((rep["name"], rep["active"]) for rep in reps) == [
        ("Ana Diaz", True),
        ("Bo", False),
    ]
