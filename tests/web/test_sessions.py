"""Signing in and out: database sessions, CSRF, `next`, throttling, expiry, audit."""

from datetime import UTC, datetime, timedelta

import httpx
from argon2 import PasswordHasher
from fastapi import FastAPI, Request
from sqlalchemy import select, update

from keyhouse.app import create_app
from keyhouse.audit.models import AuditEvent
from keyhouse.config import Settings
from keyhouse.db import Database
from keyhouse.users.models import Role, User
from keyhouse.web import sessions
from keyhouse.web.models import WebSession
from tests.factories import make_tenant, make_user
from tests.storage import database_contains
from tests.web.browsing import csrf_of, new_client, post_login, sign_in


async def _events(database: Database, action: str, actor: str) -> list[AuditEvent]:
    async with database.sessions() as session:
        query = select(AuditEvent).where(AuditEvent.action == action, AuditEvent.actor == actor)
        return list((await session.scalars(query)).all())


async def test_signing_in_sets_a_safe_cookie_and_stores_only_its_hash(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    response = await post_login(client, tenant.admin.email, "correct horse battery")
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{sessions.SESSION_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    token = client.cookies[sessions.SESSION_COOKIE]
    assert await database_contains(database, token) == []
    page = await client.get("/")
    assert page.status_code == 200
    assert tenant.account.name in page.text and tenant.admin.email in page.text
    [event] = await _events(database, "user.signed_in", tenant.admin.email)
    assert event.actor_user_id == tenant.admin.id


async def test_a_wrong_password_or_unknown_email_gets_the_same_answer(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    wrong = await post_login(client, tenant.admin.email, "not the password")
    unknown = await post_login(client, "nobody@example.com", "not the password")
    for response in (wrong, unknown):
        assert response.status_code == 400
        assert "Wrong email or password." in response.text
        assert sessions.SESSION_COOKIE not in response.headers.get("set-cookie", "")
    [event] = await _events(database, "user.sign_in_failed", tenant.admin.email)
    assert event.details["reason"] == "wrong_password"
    assert "not the password" not in str(event.details)


async def test_a_sign_in_without_the_forms_csrf_token_is_refused(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    await client.get("/login")
    credentials = {"email": tenant.admin.email, "password": "correct horse battery"}
    missing = await client.post("/login", data=credentials)
    forged = await client.post("/login", data={**credentials, "csrf_token": "0" * 64})
    for response in (missing, forged):
        assert response.status_code == 403
        assert "form has expired" in response.text
    form = await client.get("/login")
    cross_site = await client.post(
        "/login",
        data={**credentials, "csrf_token": csrf_of(form.text)},
        headers={"Origin": "https://evil.example"},
    )
    assert cross_site.status_code == 403


async def test_next_brings_the_user_back_but_only_to_this_site(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    authorize = "/oauth/authorize?client_id=abc&redirect_uri=http%3A%2F%2Flocalhost&state=x%20y"
    response = await post_login(client, tenant.admin.email, "correct horse battery", authorize)
    assert response.headers["location"] == authorize
    for unsafe in ("//evil.example/x", "https://evil.example", "/\\evil.example", "javascript:x"):
        assert sessions.safe_next(unsafe) == "/"
    signed_in_visit = await client.get("/login", params={"next": "/settings/security"})
    assert signed_in_visit.status_code == 303
    assert signed_in_visit.headers["location"] == "/settings/security"


async def test_a_page_without_a_session_sends_the_browser_to_sign_in_and_back(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/settings/audit-log", params={"action": "api_key.created"})
    assert response.status_code == 303
    assert response.headers["location"] == (
        "/login?next=%2Fsettings%2Faudit-log%3Faction%3Dapi_key.created"
    )
    form = await client.get(response.headers["location"])
    assert 'name="next" value="/settings/audit-log?action=api_key.created"' in form.text


async def test_signing_out_ends_the_session_on_the_server(
    app: FastAPI, client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    csrf = await sign_in(client, tenant.admin.email, "correct horse battery")
    token = client.cookies[sessions.SESSION_COOKIE]
    assert (await client.post("/logout")).status_code == 403  # no CSRF token
    response = await client.post("/logout", data={"csrf_token": csrf})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    async with new_client(app) as replay:
        replay.cookies.set(sessions.SESSION_COOKIE, token)
        assert (await replay.get("/")).status_code == 303


async def test_failed_attempts_are_throttled_per_email(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    for _ in range(5):
        response = await post_login(client, tenant.admin.email, "guess")
        assert response.status_code == 400
    blocked = await post_login(client, tenant.admin.email, "correct horse battery")
    assert blocked.status_code == 429
    assert "Too many failed sign-in attempts" in blocked.text


async def test_failed_attempts_are_throttled_per_address(
    database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    strict = create_app(settings.model_copy(update={"login_attempts_per_ip": "4/15 minutes"}))
    async with strict.router.lifespan_context(strict):
        async with new_client(strict, address="10.20.30.40") as attacker:
            for attempt in range(4):
                response = await post_login(attacker, f"guess{attempt}@example.com", "guess")
                assert response.status_code == 400
            blocked = await post_login(attacker, tenant.admin.email, "correct horse battery")
            assert blocked.status_code == 429
        async with new_client(strict, address="10.20.30.41") as someone_else:
            allowed = await post_login(someone_else, tenant.admin.email, "correct horse battery")
            assert allowed.status_code == 303


async def _age_sessions(database: Database, **values: datetime) -> None:
    async with database.transaction() as session:
        await session.execute(update(WebSession).values(**values))


async def test_an_idle_or_too_old_session_ends(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    await sign_in(client, tenant.admin.email, "correct horse battery")
    now = datetime.now(UTC)
    await _age_sessions(database, last_seen_at=now - timedelta(hours=12, minutes=1))
    assert (await client.get("/")).status_code == 303
    await sign_in(client, tenant.admin.email, "correct horse battery")
    await _age_sessions(database, expires_at=now - timedelta(seconds=1))
    assert (await client.get("/")).status_code == 303


async def test_a_demotion_or_deactivation_applies_on_the_next_request(
    app: FastAPI, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    other_admin, password = await make_user(database, tenant.account, Role.ADMIN)
    async with new_client(app) as admin, new_client(app) as other:
        csrf = await sign_in(admin, tenant.admin.email, "correct horse battery")
        await sign_in(other, other_admin.email, password)
        assert (await other.get("/settings/members")).status_code == 200
        url = f"/api/v1/members/{other_admin.id}"
        headers = {"X-CSRF-Token": csrf}
        await admin.patch(url, json={"role": "member"}, headers=headers)
        assert (await other.get("/settings/members")).status_code == 403
        await admin.patch(url, json={"active": False}, headers=headers)
        assert (await other.get("/")).status_code == 303
    async with database.sessions() as session:
        left = await session.scalars(select(WebSession).where(WebSession.user_id == other_admin.id))
        assert list(left) == []


async def test_pages_carry_security_headers_and_are_never_cached(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/login")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["cache-control"] == "no-store"


async def test_the_session_api_other_pages_build_on_behind_https(
    database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    application = create_app(settings.model_copy(update={"base_url": "https://testserver"}))

    @application.post("/probe")
    async def probe(request: Request) -> dict[str, str | None]:
        user = await sessions.current_user(request)
        form = await request.form()
        await sessions.check_csrf(request, str(form.get("csrf_token", "")))
        return {"email": user.email if user else None, "token": sessions.csrf_token(request)}

    async with (
        application.router.lifespan_context(application),
        new_client(application, origin="https://testserver") as web,
    ):
        form = await web.get("/login")
        signed_in = await web.post(
            "/login",
            data={
                "email": tenant.admin.email,
                "password": "correct horse battery",
                "csrf_token": csrf_of(form.text),
            },
        )
        assert "Secure" in signed_in.headers["set-cookie"]
        csrf = csrf_of((await web.get("/")).text)
        answer = await web.post("/probe", data={"csrf_token": csrf})
        assert answer.json() == {"email": tenant.admin.email, "token": csrf}
        refused = await web.post("/probe", data={"csrf_token": "nope"})
        assert refused.status_code == 403 and refused.json()["error"] == "csrf_failed"


async def test_signing_in_again_replaces_the_browsers_session(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    csrf = await sign_in(client, tenant.admin.email, "correct horse battery")
    again = await client.post(
        "/login",
        data={"email": tenant.admin.email, "password": "correct horse battery", "csrf_token": csrf},
    )
    assert again.status_code == 303
    async with database.sessions() as session:
        rows = await session.scalars(
            select(WebSession).where(WebSession.user_id == tenant.admin.id)
        )
        assert len(list(rows)) == 1


async def test_a_password_hashed_with_weaker_parameters_is_rehashed_on_sign_in(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    async with database.transaction() as session:
        await session.execute(
            update(User)
            .where(User.id == tenant.admin.id)
            .values(password_hash=weak.hash("correct horse battery"))
        )
    await sign_in(client, tenant.admin.email, "correct horse battery")
    async with database.sessions() as session:
        stored = await session.scalar(select(User.password_hash).where(User.id == tenant.admin.id))
    assert stored is not None
    assert not PasswordHasher().check_needs_rehash(stored), "still the weak parameters"
    client.cookies.clear()
    await sign_in(client, tenant.admin.email, "correct horse battery")
