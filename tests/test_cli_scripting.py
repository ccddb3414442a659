"""The command line as scripts use it: JSON lists with full ids, --yes, and `serve --port`."""

import json
import socket
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from keyhouse.accounts.models import Account
from keyhouse.api_keys.models import AccessLevel, ApiKey
from keyhouse.config import Settings
from keyhouse.db import Database
from tests.factories import make_key, make_tenant
from tests.oauth_flow import connect
from tests.servers import KEYHOUSE, cli, environment, free_port, wait_until_up

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def cli_list(settings: Settings, *args: str) -> list[dict[str, Any]]:
    """Run a list command with --json and parse its one array."""
    listed: list[dict[str, Any]] = json.loads(cli(settings, *args, "--json").stdout)
    return listed


async def test_every_list_command_prints_one_json_array_with_full_ids(
    settings: Settings, database: Database, client: httpx.AsyncClient
) -> None:
    tenant = await make_tenant(database, settings)
    key, _ = await make_key(database, settings, tenant.account, AccessLevel.READ_ONLY)
    await connect(client, database, settings, user=tenant.admin, access=AccessLevel.READ_ONLY)
    slug = tenant.account.slug
    keys = cli_list(settings, "key", "list", "--account", slug)
    assert str(key.id) in {listed["id"] for listed in keys}
    assert all(len(listed["id"]) == 36 and listed["hint"].startswith("kh_key_") for listed in keys)
    users = cli_list(settings, "user", "list", "--account", slug)
    assert [user["email"] for user in users] == [tenant.admin.email]
    connections = cli_list(settings, "connection", "list", "--account", slug)
    assert len(connections) == 1 and connections[0]["user_email"] == tenant.admin.email
    assert len(connections[0]["id"]) == 36


def _narrow_piped(settings: Settings, *args: str) -> str:
    """What a command prints into a pipe when the terminal says it is 40 columns wide."""
    return subprocess.run(
        [KEYHOUSE, *args],
        env={**environment(settings), "COLUMNS": "40"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout


async def test_piped_tables_never_cut_an_id_or_a_hint(
    settings: Settings, database: Database
) -> None:
    tenant = await make_tenant(database, settings)
    key, secret = await make_key(database, settings, tenant.account, AccessLevel.READ_ONLY)
    listing = _narrow_piped(settings, "key", "list", "--account", tenant.account.slug)
    assert str(key.id) in listing and f"{secret[:12]}…" in listing


async def test_destructive_commands_say_scripts_need_yes_and_refuse_without_it(
    settings: Settings, database: Database
) -> None:
    tenant = await make_tenant(database, settings)
    key, _ = await make_key(database, settings, tenant.account, AccessLevel.READ_ONLY)
    for command in (("key", "revoke"), ("connection", "disconnect"), ("key", "roll")):
        assert "scripts need it" in cli(settings, *command, "--help").stdout
    unconfirmed = cli(settings, "key", "revoke", str(key.id), check=False)
    assert unconfirmed.returncode != 0
    listed = cli_list(settings, "key", "list", "--account", tenant.account.slug)
    assert next(k for k in listed if k["id"] == str(key.id))["status"] == "active"
    revoked = json.loads(cli(settings, "key", "revoke", str(key.id), "--yes", "--json").stdout)
    assert revoked["id"] == str(key.id) and revoked["status"] == "revoked"


def test_serve_advertises_its_port_unless_a_base_url_is_set(
    settings: Settings, tmp_path: Path
) -> None:
    port = free_port()
    env = {k: v for k, v in environment(settings).items() if k != "KEYHOUSE_BASE_URL"}
    with (tmp_path / "serve.log").open("w") as log:
        process = subprocess.Popen(
            [KEYHOUSE, "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_up(url, process)
            server = httpx.get(f"{url}/.well-known/oauth-authorization-server").json()
            resource = httpx.get(f"{url}/.well-known/oauth-protected-resource").json()
        finally:
            process.terminate()
            process.wait(timeout=30)
    assert server["issuer"] == url
    assert server["authorization_endpoint"] == f"{url}/oauth/authorize"
    assert resource["resource"] == f"{url}/mcp"
    assert f"Keyhouse on {url}" in (tmp_path / "serve.log").read_text()


async def _counts(database: Database) -> tuple[int, int, list[Any]]:
    async with database.sessions() as session:
        accounts = await session.scalar(select(func.count()).select_from(Account)) or 0
        keys = await session.scalar(select(func.count()).select_from(ApiKey)) or 0
        revoked = (await session.scalars(select(ApiKey.revoked_at).order_by(ApiKey.id))).all()
    return accounts, keys, list(revoked)


async def test_a_busy_port_fails_before_anything_changes(
    settings: Settings, database: Database
) -> None:
    await make_tenant(database, settings)
    before = await _counts(database)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        refused = cli(settings, "serve", "--demo", "--port", str(port), check=False)
    assert refused.returncode == 1
    message = refused.stderr.strip()
    assert f"Port {port} on 127.0.0.1 is in use" in message and "--port" in message
    assert len(message.splitlines()) == 1
    assert await _counts(database) == before
