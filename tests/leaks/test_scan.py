"""`keyhouse scan`: Keyhouse tokens found in files, looked up, revoked on request."""

import json
from pathlib import Path

import httpx
import pytest

from keyhouse.api_keys.models import AccessLevel
from keyhouse.config import Settings
from keyhouse.db import Database
from keyhouse.kit import tokens
from tests.factories import make_key, make_tenant, revoke_key
from tests.servers import cli

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def _mistyped(secret: str) -> str:
    """The same key with its last checksum character changed: no longer a valid token."""
    return secret[:-1] + ("A" if secret[-1] != "A" else "B")


async def test_scan_finds_live_revoked_and_unknown_keys_and_revokes_the_live_ones(
    client: httpx.AsyncClient, database: Database, settings: Settings, tmp_path: Path
) -> None:
    tenant = await make_tenant(database, settings)
    live_key, live = await make_key(database, settings, tenant.account, AccessLevel.READ_ONLY)
    dead_key, dead = await make_key(database, settings, tenant.account, AccessLevel.READ_ONLY)
    await revoke_key(database, dead_key)
    unknown = tokens.generate(tokens.TokenKind.API_KEY)
    project = tmp_path / "project"
    (project / "config").mkdir(parents=True)
    (project / "config" / "prod.env").write_text(f"# sync\nKEYHOUSE_KEY={live}\n")
    (project / "notes.md").write_text(f"old: `{dead}`, typo: {_mistyped(live)}\nnew: {unknown}\n")
    (project / "image.bin").write_bytes(b"\x89PNG\0\0" + live.encode())
    (project / ".git").mkdir()
    (project / ".git" / "COMMIT_EDITMSG").write_text(live)

    found = cli(settings, "scan", str(project), "--json", check=False)
    assert found.returncode == 1, found.stderr
    lines = [json.loads(line) for line in found.stdout.splitlines()]
    assert [(Path(f["path"]).name, f["line"], f["hint"], f["status"]) for f in lines] == [
        ("prod.env", 2, live[:12], "live"),
        ("notes.md", 1, dead[:12], "revoked"),
        ("notes.md", 2, unknown[:12], "unknown"),
    ]
    for secret in (live, dead, unknown):
        assert secret not in found.stdout + found.stderr
    assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {live}"})).is_success

    table = cli(settings, "scan", str(project), "--revoke", check=False)
    assert table.returncode == 1 and "live → revoked now" in table.stdout
    assert live not in table.stdout
    refused = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {live}"})
    assert refused.status_code == 401
    listed = cli(settings, "key", "list", "--account", str(tenant.account.id), "--json").stdout
    revoked = next(key for key in json.loads(listed) if key["id"] == str(live_key.id))
    assert revoked["revoked_reason"] == "leaked: found in a file by keyhouse scan"

    clean = cli(settings, "scan", str(project / "config" / "prod.env"), check=False)
    assert clean.returncode == 0 and "revoked" in clean.stdout


def test_scan_of_a_tree_without_keys_exits_0(settings: Settings, tmp_path: Path) -> None:
    for index in range(250):  # enough files for the progress bar (hidden: not a terminal)
        (tmp_path / f"file{index}.txt").write_text("kh_key_tooshort_abcdef\n")
    done = cli(settings, "scan", str(tmp_path))
    assert done.returncode == 0 and "No Keyhouse keys or tokens found" in done.stdout
