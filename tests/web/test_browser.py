"""The pages in a real Chromium against a real `keyhouse serve`: what an admin and a member see.

Screenshots of every page land in var/screenshots/ (desktop and phone widths).
"""

import re

import httpx
import pytest
from fastapi import FastAPI
from mcp.shared.auth import AuthorizationCodeResult
from mcp.shared.exceptions import MCPError
from playwright.async_api import Browser, Page, Route, expect

from keyhouse.api_keys import service as api_keys
from keyhouse.api_keys.models import AccessLevel
from keyhouse.audit.service import COMMAND_LINE
from keyhouse.config import Settings
from keyhouse.db import Database
from keyhouse.users.models import Role
from tests.assistants import REDIRECT_URI, MemoryStorage, assistant
from tests.factories import make_key, make_tenant, make_user
from tests.mcp_clients import mcp_client
from tests.mcp_rpc import call_tool
from tests.oauth_flow import connect
from tests.web.chromium import DESKTOP, PASSWORD, PHONE, new_context, shot, sign_in, watch_console

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


async def test_an_admin_creates_copies_uses_and_revokes_a_key(
    browser: Browser, server: str, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    context = await new_context(browser, server, DESKTOP)
    page = await context.new_page()
    problems = watch_console(page)

    await page.goto("/settings/security")
    await expect(page).to_have_url(f"{server}/login?next=%2Fsettings%2Fsecurity")
    await shot(page, "login")
    await sign_in(page, tenant.admin.email, "not the password")
    await expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
    await shot(page, "login-wrong-password")
    await sign_in(page, tenant.admin.email, PASSWORD)
    await expect(page).to_have_url(f"{server}/settings/security")

    await page.get_by_role("link", name="Create API Key").click()
    await page.get_by_label("Name").fill("Data Sync Script")
    await page.get_by_text("can read and write data (create, update records)").click()
    await page.get_by_label("Expires").select_option("90")
    await shot(page, "api-key-new")
    await page.get_by_role("button", name="Generate Key").click()
    await expect(page.get_by_role("alert")).to_contain_text(
        "Copy the key immediately — it will not be shown again"
    )
    shown = await page.locator("#new-key").inner_text()
    await page.get_by_role("button", name="Copy").click()
    await expect(page.get_by_role("button", name="Copied")).to_be_visible()
    copied = await page.evaluate("navigator.clipboard.readText()")
    assert copied == shown and copied.startswith("kh_key_")
    await shot(page, "api-key-created")

    auth = {"Authorization": f"Bearer {copied}"}
    async with httpx.AsyncClient(base_url=server) as api:
        me = await api.get("/api/v1/me", headers=auth)
        assert me.status_code == 200 and me.json()["access_level"] == "full_access"

        await page.get_by_role("link", name="Done").click()
        row = page.locator("tr", has_text="Data Sync Script")
        await expect(row).to_contain_text(copied[:12] + "…")
        await expect(row).to_contain_text("Full access")
        await expect(row).to_contain_text(tenant.admin.email)
        await shot(page, "security")
        await row.get_by_role("link", name="Revoke").click()
        confirm = page.get_by_role("region", name="Revoke")
        await expect(confirm.get_by_role("heading")).to_have_text("Revoke “Data Sync Script”?")
        await expect(confirm).to_contain_text("stops working immediately")
        await shot(page, "api-key-revoke-confirm")
        await page.get_by_role("button", name="Revoke key").click()
        await expect(page.get_by_role("status")).to_contain_text("Revoked “Data Sync Script”")
        await expect(row).to_contain_text("Revoked")
        await expect(row.get_by_role("link", name="Revoke")).to_have_count(0)
        await shot(page, "security-revoked")

        refused = await api.get("/api/v1/me", headers=auth)
        assert refused.status_code == 401 and refused.json()["error"] == "invalid_token"

    await page.goto("/")
    await expect(page.get_by_label("MCP server URL")).to_have_value(f"{server}/mcp")
    await shot(page, "workspace")
    await page.goto("/settings/members")
    await shot(page, "members")
    await page.goto("/settings/audit-log")
    await expect(page.locator("table")).to_contain_text("Revoked API key “Data Sync Script”")
    await shot(page, "audit-log")
    assert problems == []
    await context.close()


async def test_an_admin_rolls_a_key_and_uses_the_new_secret(
    browser: Browser, server: str, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    key, old_secret = await make_key(database, settings, tenant.account, AccessLevel.READ_ONLY)
    context = await new_context(browser, server, DESKTOP)
    page = await context.new_page()
    problems = watch_console(page)
    await page.goto("/settings/security")
    await sign_in(page, tenant.admin.email, PASSWORD)
    row = page.locator(f'tr[data-key-id="{key.id}"]')
    await row.get_by_role("link", name="Roll").click()
    confirm = page.get_by_role("region", name="Roll")
    await expect(confirm.get_by_role("heading")).to_have_text(f"Roll “{key.name}”?")
    await page.get_by_label("In 24 hours").check()
    await shot(page, "api-key-roll-confirm")
    await page.get_by_role("button", name="Roll key").click()
    await expect(page.get_by_role("alert")).to_contain_text(
        "Copy the key immediately — it will not be shown again"
    )
    await expect(page.get_by_test_id("old-key")).to_contain_text(old_secret[:12])
    new_secret = await page.locator("#new-key").inner_text()
    assert new_secret.startswith("kh_key_") and new_secret != old_secret
    await shot(page, "api-key-rolled")
    async with httpx.AsyncClient(base_url=server) as api:
        for secret in (new_secret, old_secret):  # the old key works through its grace period
            me = await api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
            assert me.status_code == 200 and me.json()["access_level"] == "read_only"
    await page.get_by_role("link", name="Done").click()
    await expect(row).to_contain_text("expires in 23 h")
    await expect(row.get_by_role("link", name="Roll")).to_have_count(0)
    await shot(page, "security-rolled")
    assert problems == []
    await context.close()


async def test_a_member_sees_no_key_buttons_and_403_on_admin_pages(
    browser: Browser, server: str, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    member, password = await make_user(database, tenant.account, Role.MEMBER)
    context = await new_context(browser, server, DESKTOP)
    page = await context.new_page()
    await page.goto("/login")
    await sign_in(page, member.email, password)
    await page.goto("/settings/security")
    await expect(page.get_by_text("Only account admins can see, create and revoke")).to_be_visible()
    await expect(page.get_by_role("link", name="Create API Key")).to_have_count(0)
    await expect(page.get_by_role("link", name="Revoke")).to_have_count(0)
    await expect(page.get_by_role("link", name="Members")).to_have_count(0)
    await shot(page, "member-security")
    for path in ("/settings/members", "/settings/audit-log", "/settings/security/api-keys/new"):
        response = await page.goto(path)
        assert response is not None and response.status == 403, path
        await expect(page.get_by_role("heading")).to_have_text("You don't have access to this page")
        await expect(page.get_by_test_id("admins")).to_be_visible()
        await expect(page.get_by_role("link", name=tenant.admin.email)).to_be_visible()
    await shot(page, "member-forbidden")
    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(f"{server}/login")
    await context.close()


async def test_the_pages_fit_a_phone(
    browser: Browser, server: str, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    context = await new_context(browser, server, PHONE)
    page = await context.new_page()
    await page.goto("/login")
    await shot(page, "phone-login")
    await sign_in(page, tenant.admin.email, PASSWORD)
    await page.goto("/settings/security/api-keys/new")
    await page.get_by_label("Name").fill("Phone key")
    await page.get_by_role("button", name="Generate Key").click()
    await shot(page, "phone-api-key-created")
    for path, name in (
        ("/", "phone-workspace"),
        ("/settings/security", "phone-security"),
        ("/settings/members", "phone-members"),
        ("/settings/audit-log", "phone-audit-log"),
    ):
        await page.goto(path)
        overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways on a phone by {overflow}px"
        await shot(page, name)
    await context.close()


class BrowserUser:
    """A person in Chromium who completes an assistant's authorization on the real pages."""

    def __init__(self, page: Page, email: str, access: str, shot_name: str) -> None:
        self.page, self.email, self.access, self.shot_name = page, email, access, shot_name
        self.callback: httpx.URL | None = None

    async def redirect_handler(self, authorization_url: str) -> None:
        """Open the authorize URL, sign in, look at the consent page, Allow."""

        async def catch(route: Route) -> None:
            self.callback = httpx.URL(route.request.url)
            await route.fulfill(body="Connected. You can close this tab.")

        await self.page.route(f"{REDIRECT_URI.rsplit('/', 1)[0]}/**", catch)
        await self.page.goto(authorization_url)
        await sign_in(self.page, self.email, PASSWORD_OF[self.email])
        heading = self.page.get_by_role("heading", level=1)
        await expect(heading).to_contain_text("Connect Browser Assistant to ")
        offered = self.page.locator('input[name="access"][value="full_access"]')
        await expect(offered).to_have_count(1 if self.access == "full_access" else 0)
        # The least access is preselected, for an admin too.
        await expect(self.page.get_by_role("radio", name="Read-only")).to_be_checked()
        await expect(self.page.get_by_test_id("client-unverified")).to_be_visible()
        await shot(self.page, self.shot_name)
        await self.page.locator(f'input[name="access"][value="{self.access}"]').check()
        await self.page.get_by_role("button", name="Allow").click()
        await self.page.wait_for_url(f"{REDIRECT_URI}*")

    async def callback_handler(self) -> AuthorizationCodeResult:
        """The code, state and issuer the assistant's redirect received."""
        assert self.callback is not None
        params = self.callback.params
        return AuthorizationCodeResult(
            code=params["code"], state=params.get("state"), iss=params.get("iss")
        )


PASSWORD_OF: dict[str, str] = {}


async def test_an_admin_disconnects_an_assistant_and_its_next_call_fails(
    browser: Browser, server: str, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    admin, password = await make_user(database, tenant.account, Role.ADMIN)
    PASSWORD_OF[admin.email] = password
    context = await new_context(browser, server, DESKTOP)
    page = await context.new_page()
    user = BrowserUser(page, admin.email, "full_access", "consent-admin")
    storage = MemoryStorage()
    async with assistant(server, user, [], client_name="Browser Assistant", storage=storage) as mcp:
        who = (await mcp.call_tool("who_am_i", {})).structured_content or {}
    assert who["access_level"] == "full_access" and storage.tokens is not None
    statuses: list[int] = []
    async with mcp_client(server, storage.tokens.access_token, statuses=statuses) as mcp:
        await mcp.call_tool("who_am_i", {})
        await page.goto("/settings/security#connections")
        row = page.locator("tr", has_text="Browser Assistant")
        await expect(row).to_contain_text(admin.email)
        await expect(row).to_contain_text("Full access")
        await shot(page, "connections")
        await row.get_by_role("link", name="Disconnect").click()
        confirm = page.get_by_role("region", name="Disconnect")
        await expect(confirm).to_contain_text("stops working immediately")
        await shot(page, "connection-disconnect-confirm")
        await page.get_by_role("button", name="Disconnect").click()
        await expect(page.get_by_role("status")).to_contain_text("Disconnected Browser Assistant")
        with pytest.raises(MCPError):
            await mcp.call_tool("who_am_i", {})
    assert statuses[-1] == 401
    await context.close()


async def test_a_members_consent_page_offers_read_only_only(
    browser: Browser, server: str, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    member, password = await make_user(database, tenant.account, Role.MEMBER)
    PASSWORD_OF[member.email] = password
    context = await new_context(browser, server, DESKTOP)
    page = await context.new_page()
    user = BrowserUser(page, member.email, "read_only", "consent-member")
    async with assistant(server, user, [], client_name="Browser Assistant") as mcp:
        names = {tool.name for tool in (await mcp.list_tools()).tools}
    assert "run_distribution" not in names and "who_am_i" in names
    await page.goto("/settings/security#connections")
    await expect(page.locator("tr", has_text="Browser Assistant")).to_contain_text("Read-only")
    await expect(page.get_by_role("link", name=re.compile("^Disconnect"))).to_have_count(0)
    await expect(page.get_by_text("Only account admins can disconnect")).to_be_visible()
    await shot(page, "member-connections")
    await context.close()


async def _no_sideways_scroll(page: Page, what: str) -> None:
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{what} scrolls sideways by {overflow}px"


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_the_key_and_connection_pages_show_usage_and_tool_calls(
    browser: Browser,
    server: str,
    app: FastAPI,
    client: httpx.AsyncClient,
    database: Database,
    settings: Settings,
    viewport: dict[str, int],
) -> None:
    tenant = await make_tenant(database, settings)
    member, password = await make_user(database, tenant.account, Role.MEMBER)
    async with database.transaction() as session:
        key, secret = await api_keys.create(
            session,
            COMMAND_LINE,
            secret=settings.secret,
            account_id=tenant.account.id,
            name="Nightly sync",
            access_level=AccessLevel.READ_ONLY,
        )
    bearer = {"Authorization": f"Bearer {secret}", "User-Agent": "nightly-sync/2.1"}
    for _ in range(5):
        assert (await client.get("/api/v1/me", headers=bearer)).status_code == 200
    assert (await client.get(f"/api/v1/reps/{key.id}", headers=bearer)).status_code == 404
    connected = await connect(client, database, settings, user=member, access=AccessLevel.READ_ONLY)
    for tool in ("who_am_i", "list_reps"):
        await call_tool(client, connected.bearer, tool, {})
    await app.state.usage.flush()
    width = "phone" if viewport is PHONE else "desktop"

    context = await new_context(browser, server, viewport)
    page = await context.new_page()
    problems = watch_console(page)
    await page.goto("/login")
    await sign_in(page, tenant.admin.email, PASSWORD)
    await page.goto("/settings/security")
    await page.get_by_role("link", name="Nightly sync", exact=True).click()
    await expect(page.get_by_role("heading", name="Nightly sync")).to_be_visible()
    chart = page.get_by_role("img", name="Requests per day (UTC)")
    await expect(chart).to_be_visible()
    await expect(page.get_by_test_id("usage-summary")).to_contain_text("6 requests")
    await expect(page.get_by_test_id("usage-summary")).to_contain_text("1 error and")
    await expect(page.get_by_test_id("last-used")).to_contain_text("127.0.0.1")
    await expect(page.get_by_test_id("last-used")).to_contain_text("nightly-sync/2.1")
    await _no_sideways_scroll(page, "the key page")
    await shot(page, f"{width}-api-key-detail")
    await page.goto("/settings/security#connections")
    await page.get_by_role("link", name="Test Assistant", exact=True).click()
    calls = page.get_by_test_id("tool-calls")
    await expect(calls.locator("tbody tr")).to_have_count(2)
    await expect(calls.locator("tbody tr").first).to_contain_text("list_reps")
    await _no_sideways_scroll(page, "the connection page")
    await shot(page, f"{width}-connection-detail")
    assert not problems
    await context.close()

    context = await new_context(browser, server, viewport)
    page = await context.new_page()
    await page.goto("/login")
    await sign_in(page, member.email, password)
    await page.goto("/settings/security#connections")
    await page.get_by_role("link", name="Test Assistant", exact=True).click()
    await expect(page.get_by_test_id("tool-calls").locator("tbody tr")).to_have_count(2)
    await expect(page.get_by_role("link", name=re.compile("^Disconnect"))).to_have_count(0)
    refused = await page.goto(f"/settings/security/api-keys/{key.id}")
    assert refused is not None and refused.status == 403
    await context.close()
