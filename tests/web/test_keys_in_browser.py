"""The API keys page as a careful admin uses it in Chromium: keyboard only, reload, double
submit, a phone, and the filters."""

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import func, select

from keyhouse.api_keys.models import AccessLevel, ApiKey
from keyhouse.config import Settings
from keyhouse.db import Database
from tests.factories import make_key, make_tenant, revoke_key
from tests.web.chromium import DESKTOP, PASSWORD, PHONE, new_context, shot, sign_in, watch_console

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


async def _keys_named(database: Database, name: str) -> int:
    async with database.sessions() as session:
        count = await session.scalar(select(func.count()).where(ApiKey.name == name))
    return count or 0


async def _focused(page: Page) -> str:
    """The focused element: its id, or its tag and text."""
    described: str = await page.evaluate(
        "() => document.activeElement.id || document.activeElement.tagName + ':' "
        "+ document.activeElement.textContent.trim()"
    )
    return described


async def _tab_to(page: Page, name: str, limit: int = 60) -> None:
    """Press Tab until the focused element's text starts with `name`."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if (await _focused(page)).split(":", 1)[-1].startswith(name):
            return
    raise AssertionError(f"Tab never reached {name!r}; last focus: {await _focused(page)}")


async def test_keyboard_only_create_copy_and_revoke(
    browser: Browser, server: str, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    context = await new_context(browser, server, DESKTOP)
    page = await context.new_page()
    problems = watch_console(page)
    await page.goto("/login")
    assert await _focused(page) == "email"
    await page.keyboard.type(tenant.admin.email)
    await page.keyboard.press("Tab")
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text(tenant.account.name)
    await page.goto("/settings/security")
    await page.keyboard.press("Tab")
    assert await _focused(page) == "A:Skip to content"
    await page.keyboard.press("Enter")
    assert await _focused(page) == "main"
    await _tab_to(page, "Create API Key")
    await page.keyboard.press("Enter")
    await expect(page.get_by_label("Name")).to_be_focused()  # the form opens on its first field
    await page.keyboard.type("Nightly data sync")
    await page.keyboard.press("Enter")

    secret = page.locator("#new-key")
    await expect(secret).to_be_focused()
    await _tab_to(page, "Copy")
    await page.keyboard.press("Enter")
    await expect(page.locator("[data-copy-status]")).to_have_text("Copied to the clipboard")
    shown = await secret.inner_text()
    assert await page.evaluate("navigator.clipboard.readText()") == shown
    await _tab_to(page, "Done")
    await page.keyboard.press("Enter")

    row = page.locator("tr.row-new")
    await expect(row).to_be_focused()
    await expect(row).to_contain_text("Nightly data sync")
    await expect(row).to_contain_text(shown[:12])
    await _tab_to(page, "Revoke Nightly data sync")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=2)).to_have_text("Revoke “Nightly data sync”?")
    await _tab_to(page, "Revoke key")
    await page.keyboard.press("Enter")
    notice = page.get_by_role("status")
    await expect(notice).to_contain_text("Revoked “Nightly data sync”")
    await expect(notice).to_be_focused()
    await expect(page.locator("tr", has_text="Nightly data sync")).to_contain_text("Revoked")
    assert problems == []
    await context.close()


async def test_reload_back_and_double_submit_make_exactly_one_key(
    browser: Browser, server: str, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    context = await new_context(browser, server, DESKTOP)
    page = await context.new_page()
    await page.goto("/login")
    await sign_in(page, tenant.admin.email, PASSWORD)
    await page.goto("/settings/security/api-keys/new")
    await page.get_by_label("Name").fill("Reloaded key")
    await page.get_by_role("button", name="Generate Key").dblclick()
    await expect(page.locator("#new-key")).to_be_visible()
    await page.reload()
    await expect(page.get_by_test_id("already-shown")).to_contain_text("was shown once")
    await expect(page.locator("#new-key")).to_have_count(0)
    await page.go_back()  # the form again, with a new one-time id: nothing is sent
    await page.go_forward()
    assert await _keys_named(database, "Reloaded key") == 1

    # The same form sent twice, as a browser that ignores the disabled button would.
    await page.goto("/settings/security/api-keys/new")
    await page.get_by_label("Name").fill("Twice sent key")
    form = page.locator("form[data-submit-once]")
    await form.evaluate("form => { form.removeAttribute('data-submit-once'); }")
    await page.evaluate(
        """async () => {
            const form = document.querySelector("form[action='/settings/security/api-keys']");
            const body = new URLSearchParams(new FormData(form));
            const sent = [1, 2].map(() => fetch(form.action, {method: "POST", body}));
            await Promise.all(sent);
        }"""
    )
    assert await _keys_named(database, "Twice sent key") == 1
    await context.close()


async def test_the_secret_is_monospace_and_whole_on_a_phone(
    browser: Browser, server: str, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    context = await new_context(browser, server, PHONE)
    page = await context.new_page()
    await page.goto("/login")
    await sign_in(page, tenant.admin.email, PASSWORD)
    await page.goto("/settings/security/api-keys/new")
    await page.get_by_label("Name").fill("Phone key")
    await page.get_by_role("button", name="Generate Key").click()
    secret = page.locator("#new-key")
    await expect(secret).to_be_visible()
    # Narrow and wide letters take the same width only in a monospace font.
    widths = await secret.evaluate(
        """element => ["iiiiiiii", "MMMMMMMM"].map(text => {
            const probe = document.createElement("span");
            probe.textContent = text;
            element.appendChild(probe);
            const width = probe.getBoundingClientRect().width;
            probe.remove();
            return width;
        })"""
    )
    assert widths[0] == widths[1], widths
    box = await secret.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    overflow = await secret.evaluate("element => element.scrollWidth - element.clientWidth")
    assert overflow <= 0, "the secret is cut off on a phone"
    await shot(page, "phone-api-key-created")
    await context.close()


async def test_the_keys_list_filters_searches_and_sorts(
    browser: Browser, server: str, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    revoked, _ = await make_key(database, settings, tenant.account, AccessLevel.READ_ONLY)
    await revoke_key(database, revoked)
    kept, _ = await make_key(database, settings, tenant.account, AccessLevel.READ_ONLY)
    context = await new_context(browser, server, DESKTOP)
    page = await context.new_page()
    await page.goto("/login")
    await sign_in(page, tenant.admin.email, PASSWORD)
    await page.goto("/settings/security")
    keys = page.get_by_test_id("api-keys")
    await expect(keys).to_contain_text(kept.name)
    await expect(keys).not_to_contain_text(revoked.name)
    await page.get_by_label("Show").select_option("all")
    await page.get_by_role("button", name="Apply").click()
    await expect(keys).to_contain_text(revoked.name)
    await page.get_by_label("Search by name").fill(kept.name.upper())
    await page.get_by_label("Sort by").select_option("last_used")
    await page.get_by_role("button", name="Apply").click()
    await expect(keys.locator("tbody tr")).to_have_count(1)
    await expect(keys).to_contain_text(kept.name)
    await shot(page, "security-filtered")
    await context.close()
