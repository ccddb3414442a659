"""Settings → Security → API Keys, as the vendor's help page describes it, through HTTP."""

import re

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from keyhouse.audit.models import AuditEvent
from keyhouse.config import Settings
from keyhouse.db import Database
from keyhouse.users.models import Role
from tests.factories import make_tenant, make_user
from tests.storage import database_contains
from tests.web.browsing import csrf_of, new_client, sign_in

SECRET_RE = re.compile(r'<code id="new-key"[^>]*>(kh_key_[^<]+)</code>')
PASSWORD = "correct horse battery"


async def _create(
    client: httpx.AsyncClient, name: str, access: str = "read_only", expires: str = "never"
) -> httpx.Response:
    """Fill in and send the create form; the page it ends on (the secret, or the form again)."""
    form = await client.get("/settings/security/api-keys/new")
    data = {"name": name, "access_level": access, "expires_in_days": expires}
    return await client.post(
        "/settings/security/api-keys",
        data={**data, "csrf_token": csrf_of(form.text), "request_id": request_id_of(form.text)},
        follow_redirects=True,
    )


def request_id_of(html: str) -> str:
    """The create form's one-time id."""
    match = re.search(r'name="request_id" value="([^"]+)"', html)
    assert match is not None, html
    return match.group(1)


def _secret_of(page: httpx.Response) -> str:
    match = SECRET_RE.search(page.text)
    assert match is not None, page.text
    return match.group(1)


async def test_the_create_form_says_what_each_access_level_allows(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    await sign_in(client, tenant.admin.email, PASSWORD)
    security = await client.get("/settings/security")
    assert "Create API Key" in security.text and 'href="#connections"' in security.text
    form = (await client.get("/settings/security/api-keys/new")).text
    assert "Read-only</strong> — can query and read data; cannot make changes" in form
    assert "Full access</strong> — can read and write data (create, update records)" in form
    assert "Generate Key" in form
    for days in ("30", "90", "365"):
        assert f'value="{days}"' in form


async def test_a_key_is_shown_once_works_and_is_listed_by_its_hint(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    await sign_in(client, tenant.admin.email, PASSWORD)
    created = await _create(client, "Data Sync Script", "full_access", "90")
    assert created.status_code == 200
    assert "Copy the key immediately — it will not be shown again" in created.text
    assert created.headers["cache-control"] == "no-store"
    secret = _secret_of(created)
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200 and me.json()["access_level"] == "full_access"
    listing = await client.get("/settings/security")
    assert "Data Sync Script" in listing.text and f"{secret[:12]}…" in listing.text
    assert secret not in listing.text and tenant.admin.email in listing.text
    assert secret[8:40] not in client.cookies.get("keyhouse_session", "")
    assert await database_contains(database, secret[8:40]) == []
    async with database.sessions() as session:
        event = await session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "api_key.created", AuditEvent.actor == tenant.admin.email
            )
        )
    assert event is not None and event.actor_user_id == tenant.admin.id


async def test_revoking_asks_first_then_the_key_stops_working_and_stays_listed(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    await sign_in(client, tenant.admin.email, PASSWORD)
    secret = _secret_of(await _create(client, "Nightly export"))
    auth = {"Authorization": f"Bearer {secret}"}
    assert (await client.get("/api/v1/me", headers=auth)).status_code == 200
    listing = (await client.get("/settings/security")).text
    confirm_url = re.findall(r'href="(/settings/security/api-keys/[^"]+/revoke)"', listing)[0]
    confirm = await client.get(confirm_url)
    assert "Revoke “Nightly export”?" in confirm.text
    done = await client.post(confirm_url, data={"csrf_token": csrf_of(confirm.text)})
    assert done.status_code == 303
    assert (await client.get("/api/v1/me", headers=auth)).status_code == 401
    after = await client.get(done.headers["location"])
    assert "Revoked “Nightly export”" in after.text
    row = re.search(
        r'<tr[^>]*>\s*<td data-label="Name"><a href="[^"]+"><strong>Nightly export.*?</tr>',
        after.text,
        re.S,
    )
    assert row is not None and "Revoked" in row.group(0) and "/revoke" not in row.group(0)


async def test_revoking_without_the_csrf_token_is_refused(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    await sign_in(client, tenant.admin.email, PASSWORD)
    secret = _secret_of(await _create(client, "Kept"))
    listing = (await client.get("/settings/security")).text
    confirm_url = re.findall(r'href="(/settings/security/api-keys/[^"]+/revoke)"', listing)[0]
    refused = await client.post(confirm_url, data={})
    assert refused.status_code == 403
    auth = {"Authorization": f"Bearer {secret}"}
    assert (await client.get("/api/v1/me", headers=auth)).status_code == 200


async def test_a_bad_form_is_shown_again_with_the_problem(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    await sign_in(client, tenant.admin.email, PASSWORD)
    nameless = await _create(client, "   ")
    assert nameless.status_code == 422 and "give the key a name" in nameless.text
    odd_level = await _create(client, "x", access="everything")
    assert odd_level.status_code == 422 and "Choose an access level" in odd_level.text
    odd_expiry = await _create(client, "x", expires="7")
    assert odd_expiry.status_code == 422 and "Choose when the key expires" in odd_expiry.text


async def test_a_member_sees_no_key_buttons_and_gets_403_pages(
    app: FastAPI, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    member, password = await make_user(database, tenant.account, Role.MEMBER)
    async with new_client(app) as browser:
        await sign_in(browser, member.email, password)
        security = await browser.get("/settings/security")
        assert security.status_code == 200
        assert "Create API Key" not in security.text and "Revoke" not in security.text
        assert "Only account admins" in security.text
        assert 'href="/settings/members"' not in security.text
        for path in ("/settings/security/api-keys/new", "/settings/members", "/settings/audit-log"):
            page = await browser.get(path)
            assert page.status_code == 403, path
            assert page.headers["content-type"].startswith("text/html")
            assert "Only account admins can do this." in page.text


async def test_an_admin_cannot_reach_another_accounts_key(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    ours, theirs = await make_tenant(database, settings), await make_tenant(database, settings)
    await sign_in(client, theirs.admin.email, PASSWORD)
    their_secret = _secret_of(await _create(client, "Theirs"))
    their_listing = (await client.get("/settings/security")).text
    their_revoke = re.findall(r'href="(/settings/security/api-keys/[^"]+/revoke)"', their_listing)[
        0
    ]
    client.cookies.clear()
    await sign_in(client, ours.admin.email, PASSWORD)
    assert (await client.get(their_revoke)).status_code == 404
    form = await client.get("/settings/security")
    posted = await client.post(their_revoke, data={"csrf_token": csrf_of(form.text)})
    assert posted.status_code == 404
    auth = {"Authorization": f"Bearer {their_secret}"}
    assert (await client.get("/api/v1/me", headers=auth)).status_code == 200


async def test_a_key_rolled_from_the_page_shows_the_new_secret_once_and_the_old_ones_expiry(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    await sign_in(client, tenant.admin.email, PASSWORD)
    old_secret = _secret_of(await _create(client, "Rolled Script", "read_only", "90"))
    security = await client.get("/settings/security")
    roll_link = re.search(r'href="(/settings/security/api-keys/[^"]+/roll)"', security.text)
    assert roll_link is not None
    confirm = await client.get(roll_link.group(1))
    for label in ("Now", "In 1 hour", "In 24 hours", "In 7 days"):
        assert f"<span>{label}</span>" in confirm.text
    bad = await client.post(
        roll_link.group(1), data={"expire_old_in": "5", "csrf_token": csrf_of(confirm.text)}
    )
    assert bad.status_code == 422 and "Choose when the old key stops working" in bad.text
    rolled = await client.post(
        roll_link.group(1),
        data={"expire_old_in": "3600", "csrf_token": csrf_of(confirm.text)},
        follow_redirects=True,
    )
    assert rolled.status_code == 200 and rolled.headers["cache-control"] == "no-store"
    assert "Copy the key immediately — it will not be shown again" in rolled.text
    assert f"The old key <code>{old_secret[:12]}…</code> keeps working until" in rolled.text
    new_secret = _secret_of(rolled)
    for secret in (old_secret, new_secret):
        me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
        assert me.status_code == 200
    listing = (await client.get("/settings/security")).text
    assert "expires in 59 min" in listing or "expires in 1 h" in listing
    assert new_secret not in listing and old_secret not in listing
    assert roll_link.group(1) not in listing  # only its replacement can be rolled now
