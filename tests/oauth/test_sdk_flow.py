"""The whole connect flow with the official MCP client: discovery, registration, PKCE, consent."""

from html import unescape

import httpx

from keyhouse.audit.service import COMMAND_LINE
from keyhouse.config import Settings
from keyhouse.connections import service as connections
from keyhouse.db import Database
from keyhouse.users.models import Role
from tests.assistants import REDIRECT_URI, assistant
from tests.factories import make_tenant, make_user
from tests.oauth.headless import SEALED_RE, HeadlessUser
from tests.oauth_flow import pkce, register
from tests.web.browsing import csrf_of


async def _headless(live_server: str, email: str, password: str, access: str) -> HeadlessUser:
    user = HeadlessUser(httpx.AsyncClient(base_url=live_server), access=access)
    await user.sign_in(email, password)
    return user


async def test_an_admin_connects_with_full_access_and_a_disconnect_forces_a_new_authorization(
    live_server: str, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    admin, password = await make_user(database, tenant.account, Role.ADMIN)
    user = await _headless(live_server, admin.email, password, "full_access")
    statuses: list[int] = []
    async with assistant(live_server, user, statuses) as mcp:
        names = {tool.name for tool in (await mcp.list_tools()).tools}
        who = (await mcp.call_tool("who_am_i", {})).structured_content or {}
        assert "update_account" in names
        assert (who["access_level"], who["client"]) == ("full_access", "SDK Assistant")
        redirect = user.redirects[-1]
        assert redirect.params["iss"] == settings.base_url and redirect.params["state"]
        assert (
            "Full access" in user.consent_pages[-1]
            and tenant.account.name in user.consent_pages[-1]
        )
        async with database.transaction() as session:
            (view,) = await connections.list_connections(session, account_id=tenant.account.id)
            await connections.disconnect(
                session,
                COMMAND_LINE,
                account_id=tenant.account.id,
                connection_id=view.connection.id,
            )
        again = (await mcp.call_tool("who_am_i", {})).structured_content or {}
    assert 401 in statuses[statuses.index(200) :]  # refused right after the disconnect
    assert len(user.redirects) == 2  # ...so the assistant had to authorize again
    assert again["access_level"] == "full_access"
    await user.http.aclose()


async def test_a_member_is_offered_read_only_and_gets_no_write_tools(
    live_server: str, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    member, password = await make_user(database, tenant.account, Role.MEMBER)
    user = await _headless(live_server, member.email, password, "read_only")
    async with assistant(live_server, user, []) as mcp:
        names = {tool.name for tool in (await mcp.list_tools()).tools}
        refused = await mcp.call_tool("update_account", {"account_id": str(tenant.account.id)})
    page = user.consent_pages[-1]
    assert 'value="full_access"' not in page
    assert "Only an admin" in page
    assert "update_account" not in names
    assert refused.is_error
    await user.http.aclose()


async def test_a_member_cannot_grant_full_access_by_editing_the_form(
    live_server: str, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    member, password = await make_user(database, tenant.account, Role.MEMBER)
    user = await _headless(live_server, member.email, password, "full_access")
    info = await register(user.http)
    _verifier, challenge = pkce()
    authorize = await user.http.get(
        "/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": info["client_id"],
            "redirect_uri": REDIRECT_URI,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "state": "s",
        },
    )
    page = await user.http.get(authorize.headers["location"])
    sealed = unescape(SEALED_RE.search(page.text).group(1))  # type: ignore[union-attr]
    tampered = await user.http.post(
        "/oauth/consent",
        data={
            "csrf_token": csrf_of(page.text),
            "request": sealed,
            "decision": "allow",
            "access": "full_access",
        },
    )
    assert tampered.status_code == 403
    without_csrf = await user.http.post(
        "/oauth/consent", data={"request": sealed, "decision": "allow", "access": "read_only"}
    )
    assert without_csrf.status_code == 403
    async with database.sessions() as session:
        assert await connections.list_connections(session, account_id=tenant.account.id) == []
    await user.http.aclose()


async def test_deny_returns_access_denied_with_state_and_issuer(
    live_server: str, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    admin, password = await make_user(database, tenant.account, Role.ADMIN)
    user = await _headless(live_server, admin.email, password, "read_only")
    user.decision = "deny"
    info = await register(user.http)
    _verifier, challenge = pkce()
    await user.redirect_handler(
        str(
            httpx.URL(
                f"{live_server}/oauth/authorize",
                params={
                    "response_type": "code",
                    "client_id": info["client_id"],
                    "redirect_uri": REDIRECT_URI,
                    "code_challenge": challenge,
                    "code_challenge_method": "S256",
                    "state": "keep-me",
                },
            )
        )
    )
    params = user.redirects[-1].params
    assert (params["error"], params["state"], params["iss"]) == (
        "access_denied",
        "keep-me",
        settings.base_url,
    )
    assert "code" not in params
    await user.http.aclose()


async def test_the_consent_page_asks_for_sign_in_first_and_cannot_be_framed(
    live_server: str, database: Database, settings: Settings
) -> None:
    async with httpx.AsyncClient(base_url=live_server) as browser:
        info = await register(browser)
        _verifier, challenge = pkce()
        authorize = await browser.get(
            "/oauth/authorize",
            params={
                "response_type": "code",
                "client_id": info["client_id"],
                "redirect_uri": REDIRECT_URI,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            },
        )
        consent = await browser.get(authorize.headers["location"])
        assert consent.status_code == 303
        assert consent.headers["location"].startswith("/login?next=%2Foauth%2Fconsent")
        tenant = await make_tenant(database, settings)
        admin, password = await make_user(database, tenant.account, Role.ADMIN)
        user = HeadlessUser(browser)
        await user.sign_in(admin.email, password)
        page = await browser.get(authorize.headers["location"])
    assert page.status_code == 200
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
