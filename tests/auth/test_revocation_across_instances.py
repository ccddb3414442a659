"""Revocation is in force on every instance the moment the call that revokes returns.

Real processes: two `keyhouse serve` instances on the test PostgreSQL database with nginx in
front (round-robin). Caches are warm on every instance before each revocation, and right after
it returns, 1,000 requests go to instance A, instance B and nginx in turn.
"""

import asyncio
import os
import signal
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from keyhouse.accounts.models import Account
from keyhouse.api_keys.models import AccessLevel
from keyhouse.config import Settings
from keyhouse.connections import service as connections
from keyhouse.db import Database
from keyhouse.users.models import Role
from tests.cluster import Cluster, kill_listener, running_cluster, running_instance, running_nginx
from tests.factories import make_crm_account, make_key, make_tenant, make_user
from tests.leaks.github import payload as leak_payload
from tests.leaks.github import report as github_report
from tests.oauth_flow import Connected, connect, refresh
from tests.servers import cli
from tests.web.browsing import sign_in

pytestmark = [
    pytest.mark.skipif(
        os.environ.get("KEYHOUSE_TEST_DATABASE", "sqlite") != "postgresql",
        reason="several instances share one database only on PostgreSQL "
        "(SQLite is the embedded single-server default)",
    ),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]

PASSWORD = "correct horse battery"
WARM_UP = 30
AFTER = 1000
LOOP_SECONDS = 120
MCP_HEADERS = {
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-06-18",
}

Send = Callable[[httpx.AsyncClient, str, int], Awaitable[str]]


@pytest.fixture(scope="module")
def cluster(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Two instances and nginx, for every test of this module."""
    with running_cluster(settings, tmp_path_factory.mktemp("cluster")) as running:
        yield running


async def outcomes(urls: list[str], send: Send, count: int) -> list[str]:
    """`count` requests sent one after the other to each of `urls` in turn (bounded in time)."""
    seen: list[str] = []
    deadline = time.monotonic() + LOOP_SECONDS
    async with httpx.AsyncClient(timeout=10) as http:
        for index in range(count):
            if time.monotonic() > deadline:
                break
            seen.append(await send(http, urls[index % len(urls)], index))
    return seen


def me_with(secret: str) -> Send:
    """GET /api/v1/me with an API key: its status."""

    async def send(http: httpx.AsyncClient, url: str, _index: int) -> str:
        response = await http.get(f"{url}/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
        return str(response.status_code)

    return send


def mcp_call(token: str, method: str, params: dict[str, object]) -> Send:
    """One MCP JSON-RPC call: its status, or `refused` for a tool error."""

    async def send(http: httpx.AsyncClient, url: str, index: int) -> str:
        response = await http.post(
            f"{url}/mcp",
            json={"jsonrpc": "2.0", "id": index, "method": method, "params": params},
            headers={**MCP_HEADERS, "Authorization": f"Bearer {token}"},
        )
        if response.status_code == 200 and response.json()["result"].get("isError"):
            return "refused"
        return str(response.status_code)

    return send


async def break_listener_of_b(settings: Settings, cluster: Cluster, kill: bool) -> None:
    """Kill instance B's LISTEN connection from the database side, when asked to."""
    if kill:
        assert await kill_listener(settings, cluster.instances[1]) == 1


@pytest.mark.parametrize("kill", [False, True], ids=["listening", "listener_killed"])
async def test_a_key_revoked_through_instance_a_is_refused_everywhere_at_once(
    cluster: Cluster, database: Database, settings: Settings, kill: bool
) -> None:
    tenant = await make_tenant(database, settings)
    key, secret = await make_key(database, settings, tenant.account, AccessLevel.READ_ONLY)
    _, other = await make_key(database, settings, tenant.account, AccessLevel.READ_ONLY)
    assert await outcomes(cluster.urls, me_with(secret), WARM_UP) == ["200"] * WARM_UP
    async with httpx.AsyncClient(base_url=cluster.instances[0].url) as admin:
        csrf = await sign_in(admin, tenant.admin.email, PASSWORD)
        await break_listener_of_b(settings, cluster, kill)
        revoked = await admin.post(
            f"/api/v1/api-keys/{key.id}/revoke", headers={"X-CSRF-Token": csrf}
        )
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert await outcomes(cluster.urls, me_with(secret), AFTER) == ["401"] * AFTER
    # Instance B still serves the keys that were not revoked.
    assert await outcomes(cluster.urls, me_with(other), 3) == ["200"] * 3


async def test_a_frozen_instance_refuses_a_key_revoked_while_it_was_frozen(
    cluster: Cluster, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    key, secret = await make_key(database, settings, tenant.account, AccessLevel.READ_ONLY)
    assert await outcomes(cluster.urls, me_with(secret), WARM_UP) == ["200"] * WARM_UP
    frozen = cluster.instances[1]
    # Stopped, B can neither hear the revocation nor acknowledge it: the revoke waits for B's
    # lease, and B, woken up, finds its lease lapsed before it looks at its cache.
    os.kill(frozen.pid, signal.SIGSTOP)
    try:
        done = await asyncio.to_thread(cli, settings, "key", "revoke", str(key.id), "--yes")
    finally:
        os.kill(frozen.pid, signal.SIGCONT)
    assert done.returncode == 0
    assert await outcomes([frozen.url, cluster.proxy], me_with(secret), AFTER) == ["401"] * AFTER


async def _connected(
    cluster: Cluster, database: Database, settings: Settings, *, admins: int
) -> tuple[Connected, uuid.UUID, str, Account]:
    """A full-access connection of an admin, made through nginx: its id, admin and account."""
    tenant = await make_tenant(database, settings)
    user = tenant.admin
    if admins > 1:
        user, _ = await make_user(database, tenant.account, Role.ADMIN)
    async with httpx.AsyncClient(base_url=cluster.proxy) as through_proxy:
        connected = await connect(
            through_proxy, database, settings, user=user, access=AccessLevel.FULL_ACCESS
        )
    async with database.sessions() as session:
        (view,) = await connections.list_connections(
            session, account_id=tenant.account.id, user_id=user.id
        )
    return connected, view.connection.id, user.email, tenant.account


@pytest.mark.parametrize("kill", [False, True], ids=["listening", "listener_killed"])
async def test_a_disconnected_connection_is_refused_everywhere_at_once(
    cluster: Cluster, database: Database, settings: Settings, kill: bool
) -> None:
    connected, connection_id, _, _ = await _connected(cluster, database, settings, admins=1)
    tools = mcp_call(connected.access_token, "tools/list", {})
    assert await outcomes(cluster.urls, tools, WARM_UP) == ["200"] * WARM_UP

    async def token_or_refresh(http: httpx.AsyncClient, url: str, index: int) -> str:
        if index % 10:
            return await tools(http, url, index)
        async with httpx.AsyncClient(base_url=url) as oauth_client:
            response = await refresh(
                oauth_client, client_id=connected.client_id, token=connected.refresh_token
            )
        return f"{response.status_code} {response.json().get('error')}"

    await break_listener_of_b(settings, cluster, kill)
    # In a thread: the test's own in-process instance keeps acknowledging meanwhile.
    done = await asyncio.to_thread(
        cli, settings, "connection", "disconnect", str(connection_id), "--yes"
    )
    assert "Disconnected" in done.stdout
    seen = await outcomes(cluster.urls, token_or_refresh, AFTER)
    assert len(seen) == AFTER
    assert set(seen) == {"401", "400 invalid_grant"}, set(seen)
    assert seen.count("400 invalid_grant") == AFTER // 10


@pytest.mark.parametrize("kill", [False, True], ids=["listening", "listener_killed"])
async def test_a_demoted_admins_connection_cannot_write_anywhere_at_once(
    cluster: Cluster, database: Database, settings: Settings, kill: bool
) -> None:
    connected, _, email, account = await _connected(cluster, database, settings, admins=2)
    crm_account = await make_crm_account(database, account)
    write = mcp_call(
        connected.access_token,
        "tools/call",
        {"name": "update_account", "arguments": {"account_id": str(crm_account.id), "tier": 2}},
    )
    assert await outcomes(cluster.urls, write, WARM_UP) == ["200"] * WARM_UP
    await break_listener_of_b(settings, cluster, kill)
    changed = await asyncio.to_thread(cli, settings, "user", "set-role", email, "member")
    assert "is now member" in changed.stdout
    assert await outcomes(cluster.urls, write, AFTER) == ["refused"] * AFTER


async def test_workers_behind_nginx_serve_one_session_and_one_revocation(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    tenant = await make_tenant(database, settings)
    with (
        running_instance(settings, tmp_path / "workers.log", workers=2) as instance,
        running_nginx([instance.url], tmp_path / "nginx") as proxy,
    ):
        async with httpx.AsyncClient(base_url=proxy) as browser:
            csrf = await sign_in(browser, tenant.admin.email, PASSWORD)
            created = await browser.post(
                "/api/v1/api-keys",
                json={"name": "Through nginx", "access_level": "read_only"},
                headers={"X-CSRF-Token": csrf},
            )
            assert created.status_code == 201, created.text
            key = created.json()
            use = me_with(key["secret"])
            assert await outcomes([proxy], use, WARM_UP) == ["200"] * WARM_UP
            revoked = await browser.post(
                f"/api/v1/api-keys/{key['id']}/revoke", headers={"X-CSRF-Token": csrf}
            )
            assert revoked.status_code == 200
        assert await outcomes([proxy, instance.url], use, AFTER) == ["401"] * AFTER


@pytest.mark.parametrize("grace", [0, 2], ids=["now", "after_2s"])
async def test_a_rolled_keys_grace_end_is_in_force_everywhere(
    cluster: Cluster, database: Database, settings: Settings, grace: int
) -> None:
    tenant = await make_tenant(database, settings)
    key, secret = await make_key(database, settings, tenant.account, AccessLevel.READ_ONLY)
    assert await outcomes(cluster.urls, me_with(secret), WARM_UP) == ["200"] * WARM_UP
    async with httpx.AsyncClient(base_url=cluster.instances[0].url) as admin:
        csrf = await sign_in(admin, tenant.admin.email, PASSWORD)
        rolled = await admin.post(
            f"/api/v1/api-keys/{key.id}/roll",
            json={"expire_old_in_seconds": grace},
            headers={"X-CSRF-Token": csrf},
        )
    assert rolled.status_code == 201, rolled.text
    if grace:
        # Every instance reloads the key with its grace expiry (the roll announced it), and
        # refuses it from its cache once that moment has passed: no revocation comes then.
        warm = await outcomes(cluster.urls, me_with(secret), len(cluster.urls))
        assert set(warm) <= {"200", "401"}
        ends = datetime.fromisoformat(rolled.json()["old_expires_at"])
        await asyncio.sleep(max(0.0, (ends - datetime.now(UTC)).total_seconds()) + 0.05)
    assert await outcomes(cluster.urls, me_with(secret), AFTER) == ["401"] * AFTER
    new = rolled.json()["secret"]
    assert await outcomes(cluster.urls, me_with(new), 3) == ["200"] * 3


async def test_a_key_reported_leaked_by_github_is_refused_everywhere_at_once(
    cluster: Cluster, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    _, secret = await make_key(database, settings, tenant.account, AccessLevel.READ_ONLY)
    assert await outcomes(cluster.urls, me_with(secret), WARM_UP) == ["200"] * WARM_UP
    async with httpx.AsyncClient(base_url=cluster.instances[0].url) as github:
        answer = await github_report(github, settings, leak_payload(secret))
    assert answer.status_code == 200 and answer.json()[0]["label"] == "true_positive"
    assert await outcomes(cluster.urls, me_with(secret), AFTER) == ["401"] * AFTER
