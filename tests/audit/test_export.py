"""The audit log of a range, exported whole and in order, from the API and the command line."""

import csv
import io
import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI

from keyhouse.audit.models import AuditEvent
from keyhouse.config import Settings
from keyhouse.db import Database
from tests.factories import make_tenant
from tests.servers import cli
from tests.web.browsing import new_client, sign_in

PASSWORD = "correct horse battery"
DAY = datetime(2026, 3, 1, tzinfo=UTC)


async def _events_on_known_days(database: Database, account_id: uuid.UUID) -> list[str]:
    """2,500 events, one a minute from DAY on (more than one export chunk); their actions."""
    actions = [f"test.event_{index:04d}" for index in range(2500)]
    async with database.transaction() as session:
        session.add_all(
            AuditEvent(
                account_id=account_id,
                action=action,
                actor="robot",
                occurred_at=DAY + timedelta(minutes=minute),
                details={},
            )
            for minute, action in enumerate(actions)
        )
    return actions


async def test_a_range_is_exported_complete_and_in_order_as_jsonl_and_csv(
    app: FastAPI, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    actions = await _events_on_known_days(database, tenant.account.id)
    since, until = DAY + timedelta(minutes=100), DAY + timedelta(minutes=2100)
    expected = actions[100:2100]
    async with new_client(app) as browser:
        await sign_in(browser, tenant.admin.email, PASSWORD)
        query = {"since": since.isoformat(), "until": until.isoformat()}
        jsonl = await browser.get("/api/v1/audit-events/export", params=query)
        as_csv = await browser.get("/api/v1/audit-events/export", params={**query, "format": "csv"})
        backwards = await browser.get(
            "/api/v1/audit-events/export",
            params={"since": until.isoformat(), "until": since.isoformat()},
        )
        naive = await browser.get(
            "/api/v1/audit-events/export", params={"since": "2026-03-01T00:00:00"}
        )
    assert jsonl.status_code == 200 and jsonl.headers["content-type"].startswith(
        "application/jsonl"
    )
    lines = [json.loads(line) for line in jsonl.text.splitlines()]
    assert [line["action"] for line in lines] == expected
    assert lines[0]["occurred_at"].startswith("2026-03-01T01:40:00")
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [row["action"] for row in rows] == expected
    assert json.loads(rows[0]["details"]) == {} and rows[0]["actor"] == "robot"
    assert backwards.status_code == 422 and naive.status_code == 422


async def test_only_an_admin_session_exports(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    query = {"since": DAY.isoformat()}
    assert (await client.get("/api/v1/audit-events/export", params=query)).status_code == 401
    keyed = await client.get("/api/v1/audit-events/export", params=query, headers=tenant.write)
    assert keyed.status_code == 403


async def test_the_command_line_exports_the_same_range(
    database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    actions = await _events_on_known_days(database, tenant.account.id)
    since, until = DAY + timedelta(minutes=10), DAY + timedelta(minutes=20)
    args = ["audit", "export", "--account", tenant.account.slug, "--since", since.isoformat()]
    jsonl = cli(settings, *args, "--until", until.isoformat())
    assert [json.loads(line)["action"] for line in jsonl.stdout.splitlines()] == actions[10:20]
    as_csv = cli(settings, *args, "--until", until.isoformat(), "--format", "csv")
    assert [row["action"] for row in csv.DictReader(io.StringIO(as_csv.stdout))] == actions[10:20]
    recent = cli(settings, "audit", "export", "--account", tenant.account.slug, "--since", "30d")
    assert "account.created" in recent.stdout and "test.event_" not in recent.stdout
    wrong = cli(settings, *args, "--until", "not a time", check=False)
    assert wrong.returncode == 2 and "not a time" in wrong.stderr
