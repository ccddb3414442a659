"""axe-core on every page, at desktop and phone widths, in real Chromium: no violations at all."""

import re

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from keyhouse.api_keys.models import AccessLevel
from keyhouse.audit.service import COMMAND_LINE
from keyhouse.config import Settings
from keyhouse.connections import service as connections
from keyhouse.db import Database
from keyhouse.oauth import grants
from keyhouse.oauth.provider import CONSENT_PATH
from keyhouse.users.models import Role
from tests.factories import make_tenant, make_user
from tests.oauth_flow import REDIRECT_URI, connect
from tests.web.chromium import (
    DESKTOP,
    PASSWORD,
    PHONE,
    axe_violations,
    describe,
    install_axe,
    new_context,
    sign_in,
)

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

WIDTHS = {"desktop": DESKTOP, "phone": PHONE}


def _consent_path(settings: Settings, client_name: str, *, write: bool) -> str:
    pending = grants.PendingAuthorization(
        client_id="axe-client",
        client_name=client_name,
        redirect_uri=REDIRECT_URI,
        redirect_uri_provided_explicitly=True,
        code_challenge="x" * 43,
        state="s",
        scopes=["read", "write"],
        requested=["read", "write"] if write else ["read"],
        resource=settings.mcp_url,
    )
    return f"{CONSENT_PATH}?{httpx.QueryParams({'request': grants.seal(settings, pending)})}"


async def _check(page: Page, path: str, found: dict[str, object]) -> None:
    """Run axe on the page now shown; record its violations under `path`."""
    violations = await axe_violations(page)
    if violations:
        found[path] = violations


@pytest.mark.parametrize("width", WIDTHS)
async def test_every_page_has_no_axe_violations(
    browser: Browser, server: str, database: Database, settings: Settings, width: str
) -> None:
    await install_axe()
    tenant = await make_tenant(database, settings)
    member, member_password = await make_user(database, tenant.account, Role.MEMBER)
    async with httpx.AsyncClient(base_url=server) as http:
        await connect(http, database, settings, user=tenant.admin, access=AccessLevel.FULL_ACCESS)
        ended = await connect(http, database, settings, user=member, access=AccessLevel.READ_ONLY)
    async with database.transaction() as session:
        views = await connections.list_connections(session, account_id=tenant.account.id)
        ended_id = next(v.connection.id for v in views if v.user.id == member.id)
        await connections.disconnect_by_id(session, COMMAND_LINE, connection_id=ended_id)
    assert ended.access_token
    found: dict[str, object] = {}
    context = await new_context(browser, server, WIDTHS[width])
    page = await context.new_page()

    await page.goto("/login")
    await _check(page, "/login", found)
    await sign_in(page, tenant.admin.email, "not the password")
    await _check(page, "/login (wrong password)", found)
    consent = _consent_path(settings, "Axe Assistant", write=True)
    await page.goto(f"/login?{httpx.QueryParams({'next': consent})}")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("connect Axe Assistant")
    await _check(page, "/login (connecting an assistant)", found)
    await sign_in(page, tenant.admin.email, PASSWORD)
    await expect(page.get_by_role("radio", name="Full access")).to_be_visible()
    await _check(page, "consent (admin)", found)

    await page.goto("/settings/security/api-keys/new")
    await page.get_by_label("Name").fill("   ")
    await page.get_by_role("button", name="Generate Key").click()
    await expect(page.get_by_role("alert")).to_be_visible()
    await _check(page, "/settings/security/api-keys/new (errors)", found)
    await page.get_by_label("Name").fill("Axe check")
    await page.get_by_label("Description").fill("Checked by axe-core")
    await page.get_by_role("button", name="Generate Key").click()
    await expect(page.locator("#new-key")).to_be_visible()
    await _check(page, "secret shown once", found)
    secret_page = page.url
    await page.reload()
    await _check(page, "secret already shown", found)
    await page.goto(secret_page.replace("/secret", "/roll"))
    await _check(page, "roll confirmation", found)
    await page.goto(secret_page.replace("/secret", "/revoke"))
    await _check(page, "revoke confirmation", found)
    await page.get_by_role("button", name="Revoke key").click()
    await _check(page, "/settings/security (revoked, all)", found)
    for path in (
        "/",
        "/settings/security",
        "/settings/security?show=all&q=axe&sort=last_used",
        "/settings/members",
        f"/settings/members/{member.id}/deactivate",
        "/settings/audit-log",
        "/settings/security/api-keys/00000000-0000-0000-0000-000000000000/revoke",
    ):
        await page.goto(path)
        await _check(page, path, found)
    connection_link = page.get_by_role("link", name=re.compile("^Disconnect"))
    await page.goto("/settings/security")
    await connection_link.first.click()
    await _check(page, "disconnect confirmation", found)

    await page.goto("/settings/members")
    await page.get_by_label("Email").fill(f"invited-{width}@example.com")
    await page.get_by_role("button", name="Add member").click()
    invite_link = await page.locator("#invite-link").input_value()
    await _check(page, "invite link shown", found)
    await page.get_by_role("button", name="Sign out").click()
    await page.goto(invite_link)
    await _check(page, "/invite/… (set a password)", found)
    await page.goto("/invite/not-a-token")
    await _check(page, "/invite/… (closed)", found)

    await page.goto("/login")
    await sign_in(page, member.email, member_password)
    for path in ("/settings/security", "/settings/members"):
        await page.goto(path)
        await _check(page, f"{path} (member)", found)
    await page.goto(_consent_path(settings, "Axe Assistant", write=False))
    await _check(page, "consent (member)", found)
    await context.close()
    assert found == {}, f"axe-core violations at {width} width:\n{describe([found])}"
