"""One email rule for members and reps, wherever an address comes in; a taken address says
nothing about which account holds it."""

import re
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from keyhouse.cli import app as cli
from keyhouse.config import Settings
from keyhouse.db import Database
from keyhouse.users.models import Role
from tests.factories import make_tenant, make_user, unique
from tests.web.browsing import csrf_of, new_client, sign_in

PASSWORD = "correct horse battery"
NOT_EMAILS = ["not-an-email", "bo@localhost", "bo@@example.com", "b o@example.com", "bo@example"]
ALERT_RE = re.compile(r'role="alert">([^<]*)<')


def _messy(local: str) -> tuple[str, str]:
    """An address as someone might type it, and the one form Keyhouse stores."""
    return f"  {local.upper()}@Example.COM ", f"{local}@example.com"


async def _add_member(client: httpx.AsyncClient, csrf: str, email: str) -> httpx.Response:
    return await client.post(
        "/api/v1/members",
        json={"email": email, "role": "member", "password": "long enough password"},
        headers={"X-CSRF-Token": csrf},
    )


async def _add_on_page(client: httpx.AsyncClient, email: str) -> httpx.Response:
    form = await client.get("/settings/members")
    return await client.post(
        "/settings/members",
        data={"email": email, "role": "member", "csrf_token": csrf_of(form.text)},
    )


async def _add_rep(app: FastAPI, headers: dict[str, str], email: str) -> httpx.Response:
    async with new_client(app) as client:
        return await client.post(
            "/api/v1/reps", json={"name": "Di", "email": email}, headers=headers
        )


def _alert(page: str) -> str:
    match = ALERT_RE.search(page)
    assert match is not None, "the page shows no error"
    return match.group(1)


async def test_members_and_reps_store_an_address_in_one_form(
    app: FastAPI, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    async with new_client(app) as browser:
        csrf = await sign_in(browser, tenant.admin.email, PASSWORD)
        typed, stored = _messy(unique("bo"))
        member = await _add_member(browser, csrf, typed)
        assert (member.status_code, member.json()["email"]) == (201, stored)
        typed, stored = _messy(unique("cy"))
        assert (await _add_on_page(browser, typed)).status_code == 200
        listed = (await browser.get("/api/v1/members")).json()
        assert stored in {m["email"] for m in listed}
    typed, stored = _messy(unique("di"))
    rep = await _add_rep(app, tenant.write, typed)
    assert (rep.status_code, rep.json()["email"]) == (201, stored)


@pytest.mark.parametrize("email", NOT_EMAILS)
async def test_what_is_not_an_email_is_refused_alike_everywhere(
    app: FastAPI, database: Database, settings: Settings, email: str
) -> None:
    tenant = await make_tenant(database, settings)
    async with new_client(app) as browser:
        csrf = await sign_in(browser, tenant.admin.email, PASSWORD)
        before = (await browser.get("/api/v1/members")).json()
        api = await _add_member(browser, csrf, email)
        page = await _add_on_page(browser, email)
        assert (await browser.get("/api/v1/members")).json() == before
    assert (api.status_code, api.json()["error"]) == (422, "invalid_input")
    assert api.json()["detail"].startswith("email: not an email address")
    assert page.status_code == 422
    assert _alert(page.text).startswith("email: not an email address")
    rep = await _add_rep(app, tenant.write, email)
    assert rep.status_code == 422
    assert rep.json()["detail"].startswith("email: not an email address")
    async with new_client(app) as client:
        imported = await client.post(
            "/api/v1/reps/import",
            content=f"name,email\nDi,{email}\n",
            headers={**tenant.write, "Content-Type": "text/csv"},
        )
    assert imported.status_code == 422
    assert "line 2: email: not an email address" in imported.json()["detail"]


def test_the_command_line_applies_the_same_rule(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KEYHOUSE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("KEYHOUSE_SECRET_KEY", settings.secret.decode())
    monkeypatch.setenv("KEYHOUSE_VAR_DIR", str(settings.var_dir))
    runner = CliRunner()
    typed, stored = _messy(unique("ed"))
    created = runner.invoke(cli, ["account", "create", tmp_path.name, "--admin-email", typed])
    assert created.exit_code == 0, created.output
    assert stored in created.output
    refused = runner.invoke(cli, ["account", "create", tmp_path.name, "--admin-email", "bo@@x.io"])
    assert refused.exit_code == 1
    assert "email: not an email address" in refused.output


async def test_a_taken_email_gets_the_same_answer_whichever_account_holds_it(
    app: FastAPI, database: Database, settings: Settings
) -> None:
    ours = await make_tenant(database, settings)
    theirs = await make_tenant(database, settings)
    colleague, _ = await make_user(database, ours.account, Role.MEMBER)
    stranger, _ = await make_user(database, theirs.account, Role.MEMBER)
    async with new_client(app) as browser:
        csrf = await sign_in(browser, ours.admin.email, PASSWORD)
        answers = [
            await _add_member(browser, csrf, email)
            for email in (colleague.email, stranger.email, f" {stranger.email.upper()}")
        ]
        pages = [await _add_on_page(browser, email) for email in (colleague.email, stranger.email)]
        members = (await browser.get("/api/v1/members")).json()
    assert [(answer.status_code, answer.json()) for answer in answers] == [
        (409, {"error": "conflict", "detail": "email: a user with this email already exists."})
    ] * 3
    assert [page.status_code for page in pages] == [409, 409]
    assert _alert(pages[0].text) == _alert(pages[1].text)
    for page in pages:
        assert theirs.account.name not in page.text and theirs.account.slug not in page.text
    assert stranger.email not in {member["email"] for member in members}
