"""Real Chromium for the page tests: contexts at phone and desktop widths, sign-in, screenshots,
and axe-core (from npm, pinned in tests/web/package.json) to check a page's accessibility."""

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}
PASSWORD = "correct horse battery"

NPM_ROOT = Path(__file__).resolve().parent
AXE = NPM_ROOT / "node_modules" / "axe-core" / "axe.min.js"
INSTALL_SECONDS = 300


async def new_context(browser: Browser, server: str, viewport: dict[str, int]) -> BrowserContext:
    """A fresh browser profile at `viewport` that may use the clipboard."""
    context = await browser.new_context(viewport=viewport, base_url=server)  # type: ignore[arg-type]
    await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    return context


def watch_console(page: Page) -> list[str]:
    """Script errors and CSP violations (a 4xx answer to a form is expected, not a problem)."""
    problems: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


async def shot(page: Page, name: str) -> None:
    """Save a full-page screenshot as var/screenshots/NAME.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def sign_in(page: Page, email: str, password: str) -> None:
    """Fill in and send the sign-in form on the current page."""
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()


async def install_axe() -> None:
    """`npm ci --prefix tests/web` unless axe-core is there; no npm is a failure, not a skip."""
    if AXE.exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is required to install axe-core for the page tests (tests/web/).")
    process = await asyncio.create_subprocess_exec(
        npm,
        "ci",
        "--prefix",
        str(NPM_ROOT),
        "--no-audit",
        "--no-fund",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    async with asyncio.timeout(INSTALL_SECONDS):
        output, _ = await process.communicate()
    if process.returncode != 0 or not AXE.exists():
        pytest.fail(f"`npm ci --prefix tests/web` failed:\n{output.decode(errors='replace')}")


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (WCAG 2.x A and AA, and best practices).

    axe runs through the DevTools protocol, so the pages' strict CSP stays on.
    """
    await page.evaluate(AXE.read_text())
    result = await page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "nodes": [node["target"] for node in violation["nodes"]][:5],
        }
        for violation in result
    ]


def describe(violations: list[dict[str, Any]]) -> str:
    """Violations as readable lines for an assertion message."""
    return json.dumps(violations, indent=1)
