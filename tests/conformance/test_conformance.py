"""The official MCP conformance suite against a live Keyhouse: every scenario passes except
the documented expected failures, and every expected failure still fails."""

import asyncio
from pathlib import Path

import httpx
from fastapi import FastAPI

from keyhouse.config import Settings
from keyhouse.db import Database
from keyhouse.users.models import Role
from tests.conformance import expected_failures, suite
from tests.factories import make_tenant, make_user
from tests.oauth.headless import HeadlessUser
from tests.servers import free_port

PROMPT_SECONDS = 30


async def test_server_scenarios_pass_except_the_expected_failures(
    app: FastAPI, database: Database, settings: Settings, tmp_path: Path
) -> None:
    await suite.install()
    tenant = await make_tenant(database, settings)
    credentialed = suite.with_bearer(app, tenant.write_key)
    async with suite.serving(credentialed, free_port()) as url:
        output = await suite.run(
            suite.SERVER_SUITE, "server", "--url", f"{url}/mcp", "-o", str(tmp_path)
        )
    found = suite.results(tmp_path)
    assert found, f"the suite reported no scenario:\n{output}"
    assert "server-initialize" in found and found["server-initialize"].passed
    problems = suite.verdict(found, expected_failures.SERVER)
    assert not problems, "\n".join(problems)


async def test_authorization_server_checks_pass_with_a_headless_approval(
    live_server: str, database: Database, settings: Settings, tmp_path: Path
) -> None:
    await suite.install()
    tenant = await make_tenant(database, settings)
    admin, password = await make_user(database, tenant.account, Role.ADMIN)
    port = free_port()
    async with httpx.AsyncClient(base_url=live_server, timeout=30) as browser:
        registered = await browser.post(
            "/oauth/register",
            json={
                "client_name": "MCP conformance suite",
                "redirect_uris": [f"http://127.0.0.1:{port}/callback"],
                "token_endpoint_auth_method": "none",
            },
        )
        assert registered.status_code == 201, registered.text
        args = (
            "authorization",
            *("--url", settings.base_url, "--resource", settings.mcp_url),
            *("--client-id", registered.json()["client_id"], "--port", str(port)),
            *("-o", str(tmp_path)),
        )
        async with suite.started(suite.AUTHORIZATION_SUITE, *args) as process:
            authorize_url = await _authorization_url(process, settings)
            callback = await _approve_in_browser(browser, admin.email, password, authorize_url)
            assert (await browser.get(callback)).status_code == 200
            await asyncio.wait_for(process.wait(), PROMPT_SECONDS)
    found = suite.results(tmp_path)
    assert set(found) == {"authorization-server-metadata-endpoint", "authorization-code-grant"}
    problems = suite.verdict(found, expected_failures.AUTHORIZATION)
    assert not problems, "\n".join(problems)


async def _authorization_url(process: asyncio.subprocess.Process, settings: Settings) -> str:
    """The URL the suite asks a person to open in a browser."""
    assert process.stdout is not None
    prefix = f"{settings.base_url}/oauth/authorize?"
    printed = []
    async with asyncio.timeout(PROMPT_SECONDS):
        while line := (await process.stdout.readline()).decode():
            printed.append(line)
            if line.startswith(prefix):
                return line.strip()
    raise AssertionError(f"the suite printed no authorization URL:\n{''.join(printed)}")


async def _approve_in_browser(
    browser: httpx.AsyncClient, email: str, password: str, url: str
) -> str:
    """The browser's part: sign in, follow /oauth/authorize to the consent page, Allow."""
    user = HeadlessUser(browser, access="full_access")
    await user.sign_in(email, password)
    await user.redirect_handler(url)
    return str(user.redirects[-1])
