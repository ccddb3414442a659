"""The operator's path end to end: CLI commands and a real server, on the test database."""

from pathlib import Path

import httpx
import pytest

from keyhouse.config import Settings
from keyhouse.db import Database
from tests.factories import unique
from tests.servers import cli, cli_json, running_server
from tests.storage import database_contains

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


async def test_a_key_created_used_and_revoked_from_the_command_line(
    settings: Settings, database: Database, tmp_path: Path
) -> None:
    account = cli_json(
        settings,
        "account",
        "create",
        unique("Ops Co"),
        "--admin-email",
        f"{unique('ops')}@example.com",
        "--admin-password",
        "a long password",
    )
    key = cli_json(
        settings,
        "key",
        "create",
        "--account",
        account["slug"],
        "--name",
        "Nightly sync",
        "--access",
        "full_access",
        "--expires-in",
        "90d",
    )
    secret = key["secret"]
    assert secret.startswith("kh_key_") and key["status"] == "active"
    log_path = tmp_path / "server.log"
    with running_server(settings, log_path) as url:
        http = httpx.AsyncClient(base_url=url)
        auth = {"Authorization": f"Bearer {secret}"}
        me = await http.get("/api/v1/me", headers=auth)
        assert me.status_code == 200
        assert me.json()["account"]["slug"] == account["slug"]
        refused = await http.get("/api/v1/reps", params={"access_token": secret})
        assert refused.status_code == 400
        assert secret not in refused.text
        listing = cli(settings, "key", "list", "--account", account["slug"]).stdout
        assert "Nightly sync" in listing and secret[:12] in listing and secret not in listing
        cli(settings, "key", "revoke", key["id"], "--yes")
        after = await http.get("/api/v1/me", headers=auth)
        await http.aclose()
        assert after.status_code == 401
        assert after.json()["error"] == "invalid_token"
    log = log_path.read_text()
    assert "request" in log  # the access log ran
    assert secret not in log and secret[8:40] not in log
    assert await database_contains(database, secret[8:40]) == []


def test_users_and_roles_from_the_command_line(settings: Settings) -> None:
    admin_email = f"{unique('first')}@example.com"
    account = cli_json(
        settings, "account", "create", unique("Roles Co"), "--admin-email", admin_email
    )
    member = cli_json(
        settings,
        "user",
        "add",
        "--account",
        account["id"],
        "--email",
        f"{unique('m')}@example.com",
        "--role",
        "member",
        "--password",
        "another long password",
    )
    assert member["role"] == "member"
    lonely = cli(settings, "user", "set-role", admin_email, "member", check=False)
    assert lonely.returncode == 1
    assert "at least one active admin" in lonely.stderr
    cli(settings, "user", "set-role", member["email"], "admin")
    assert "is now member" in cli(settings, "user", "set-role", admin_email, "member").stdout
    assert "deactivated" in cli(settings, "user", "deactivate", admin_email).stdout


def test_bad_command_line_input_is_a_clear_error(settings: Settings) -> None:
    unknown = cli(settings, "key", "list", "--account", "no-such-account", check=False)
    assert unknown.returncode == 1 and "No account" in unknown.stderr
    bad_expiry = cli(
        settings,
        "key",
        "create",
        "--account",
        "x",
        "--name",
        "n",
        "--access",
        "read_only",
        "--expires-in",
        "soon",
        check=False,
    )
    assert bad_expiry.returncode == 2 and "30m, 12h, 90d or 2w" in bad_expiry.stderr
