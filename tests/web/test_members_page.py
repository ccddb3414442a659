"""Settings → Members: add with a password or an invite link, roles, deactivation."""

import re

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from keyhouse import logs
from keyhouse.audit.models import AuditEvent
from keyhouse.config import Settings
from keyhouse.db import Database
from keyhouse.users.models import Role
from tests.factories import make_tenant, make_user, unique
from tests.storage import database_contains
from tests.web.browsing import csrf_of, new_client, sign_in

PASSWORD = "correct horse battery"
INVITE_RE = re.compile(r'id="invite-link"[^>]*value="([^"]+)"')


async def _post(client: httpx.AsyncClient, url: str, **data: str) -> httpx.Response:
    form = await client.get("/settings/members")
    return await client.post(url, data={**data, "csrf_token": csrf_of(form.text)})


async def _actions(database: Database, subject: object) -> list[str]:
    async with database.sessions() as session:
        query = select(AuditEvent.action).where(AuditEvent.subject_id == subject)
        return list(await session.scalars(query.order_by(AuditEvent.occurred_at)))


async def test_a_member_added_with_a_password_can_sign_in(
    app: FastAPI, client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    await sign_in(client, tenant.admin.email, PASSWORD)
    email = f"{unique('bo')}@example.com"
    added = await _post(
        client,
        "/settings/members",
        email=email,
        role="member",
        sign_in="password",
        password="a long password",
    )
    assert added.status_code == 303
    page = await client.get(added.headers["location"])
    assert f"Added {email}." in page.text
    async with new_client(app) as browser:
        await sign_in(browser, email, "a long password")
        assert (await browser.get("/settings/members")).status_code == 403


async def test_an_invite_link_is_shown_once_and_works_once(
    app: FastAPI, client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    await sign_in(client, tenant.admin.email, PASSWORD)
    email = f"{unique('cy')}@example.com"
    invited = await _post(client, "/settings/members", email=email, role="admin")
    assert invited.status_code == 200
    assert "it will not be shown again" in invited.text
    link = INVITE_RE.search(invited.text)
    assert link is not None
    url = link.group(1)
    token = url.rsplit("/", 1)[1]
    assert url.startswith(settings.base_url + "/invite/kh_iv_")
    assert await database_contains(database, token[6:40]) == []
    assert token not in logs.redact(f"GET /invite/{token}")  # the access log logs paths
    members = (await client.get("/settings/members")).text
    assert "Invited" in members and token not in members
    path = url.removeprefix(settings.base_url)
    async with new_client(app) as newcomer:
        form = await newcomer.get(path)
        assert email in form.text
        csrf = csrf_of(form.text)
        mismatch = await newcomer.post(
            path, data={"password": "first password", "confirm": "other", "csrf_token": csrf}
        )
        assert mismatch.status_code == 422 and "differ" in mismatch.text
        accepted = await newcomer.post(
            path,
            data={"password": "my own password", "confirm": "my own password", "csrf_token": csrf},
        )
        assert accepted.status_code == 303
        assert (await newcomer.get("/settings/members")).status_code == 200  # signed in, admin
        assert (await newcomer.get(path)).status_code == 404
    async with new_client(app) as browser:
        await sign_in(browser, email, "my own password")
    async with database.sessions() as session:
        actions = await session.scalars(
            select(AuditEvent.action).where(AuditEvent.details["email"].as_string() == email)
        )
        assert {"user.added", "user.invited", "user.invitation_accepted"} <= set(actions)


async def test_the_last_admin_can_be_neither_demoted_nor_deactivated(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    await sign_in(client, tenant.admin.email, PASSWORD)
    base = f"/settings/members/{tenant.admin.id}"
    demoted = await _post(client, f"{base}/role", role="member")
    assert demoted.status_code == 409
    assert "at least one active admin" in demoted.text
    assert 'data-member="' in demoted.text  # the members page, with the error on it
    deactivated = await _post(client, f"{base}/deactivate")
    assert deactivated.status_code == 409
    assert (await client.get("/settings/members")).status_code == 200  # still an admin


async def test_roles_change_and_a_deactivated_member_is_signed_out(
    app: FastAPI, client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    member, password = await make_user(database, tenant.account, Role.MEMBER)
    await sign_in(client, tenant.admin.email, PASSWORD)
    promoted = await _post(client, f"/settings/members/{member.id}/role", role="admin")
    assert "is now an admin" in (await client.get(promoted.headers["location"])).text
    async with new_client(app) as browser:
        await sign_in(browser, member.email, password)
        confirm = await client.get(f"/settings/members/{member.id}/deactivate")
        assert f"Deactivate {member.email}?" in confirm.text
        await client.post(
            f"/settings/members/{member.id}/deactivate",
            data={"csrf_token": csrf_of(confirm.text)},
        )
        assert (await browser.get("/")).status_code == 303
        refused = await browser.post(
            "/login",
            data={
                "email": member.email,
                "password": password,
                "csrf_token": csrf_of((await browser.get("/login")).text),
            },
        )
        assert "Wrong email or password." in refused.text
    await _post(client, f"/settings/members/{member.id}/reactivate")
    assert await _actions(database, member.id) == [
        "user.added",
        "user.role_changed",
        "user.signed_in",
        "user.deactivated",
        "user.sign_in_failed",
        "user.reactivated",
    ]


async def test_an_email_already_taken_is_shown_on_the_form(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    await sign_in(client, tenant.admin.email, PASSWORD)
    again = await _post(client, "/settings/members", email=tenant.admin.email, role="member")
    assert again.status_code == 409 and "already exists" in again.text
    short = await _post(
        client,
        "/settings/members",
        email=f"{unique('d')}@example.com",
        sign_in="password",
        password="short",
    )
    assert short.status_code == 422 and "at least 10 characters" in short.text


async def test_members_of_another_account_are_out_of_reach(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    ours, theirs = await make_tenant(database, settings), await make_tenant(database, settings)
    await sign_in(client, ours.admin.email, PASSWORD)
    page = (await client.get("/settings/members")).text
    assert theirs.admin.email not in page
    response = await _post(client, f"/settings/members/{theirs.admin.id}/deactivate")
    assert response.status_code == 404
