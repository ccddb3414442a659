"""The wheel is the product: built, installed with the locked runtime dependencies only into a
fresh virtual environment, and run from an empty folder, as docs/deploy.md tells an operator.

Every command here is one that docs/deploy.md shows, in the same order.
"""

import asyncio
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest

from keyhouse.config import Settings
from tests.servers import free_port, wait_until_up

CHECKOUT = Path(__file__).resolve().parents[2]
INSTALL_SECONDS = 600
COMMAND_SECONDS = 120
# Every module imports, with the redis extra blocked: Redis stays optional.
IMPORT_EVERY_MODULE = """
import importlib, pkgutil, sys
sys.modules["redis"] = None
import keyhouse
names = [m.name for m in pkgutil.walk_packages(keyhouse.__path__, "keyhouse.")]
for name in names:
    importlib.import_module(name)
print(len(names))
"""


@dataclass(frozen=True)
class Installed:
    """A virtual environment holding the built wheel and its locked runtime dependencies."""

    venv: Path

    def command(self, name: str) -> str:
        """The path of a console script of the environment."""
        return str(self.venv / "bin" / name)


def _clean_environment() -> dict[str, str]:
    """This process's environment without anything that points at the checkout or its venv."""
    dropped = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
    return {
        name: value
        for name, value in os.environ.items()
        if name not in dropped and not name.startswith("KEYHOUSE_")
    }


def _run(
    args: list[str], *, cwd: Path, env: dict[str, str], timeout: float = COMMAND_SECONDS
) -> str:
    result = subprocess.run(
        args,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _source_copy(into: Path) -> Path:
    """What a fresh clone holds for building, so no stale build output of the checkout leaks in."""
    source = into / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(CHECKOUT / name, source / name)
    ignored = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(CHECKOUT / "src", source / "src", ignore=ignored)
    return source


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Build the wheel once, and install it the way docs/deploy.md does."""
    work = tmp_path_factory.mktemp("install")
    source, dist, venv = _source_copy(work), work / "dist", work / "keyhouse"
    env = _clean_environment()
    pip = str(venv / "bin" / "pip")
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(dist), "."],
        cwd=source,
        env=env,
        timeout=INSTALL_SECONDS,
    )
    [wheel] = dist.glob("keyhouse-*.whl")
    _run(["python3", "-m", "venv", str(venv)], cwd=work, env=env)
    requirements = str(CHECKOUT / "requirements.txt")
    _run(
        [pip, "install", "--require-hashes", "-r", requirements],
        cwd=work,
        env=env,
        timeout=INSTALL_SECONDS,
    )
    _run([pip, "install", "--no-deps", str(wheel)], cwd=work, env=env, timeout=INSTALL_SECONDS)
    # Every requirement the wheel declares is satisfied by the lock, nothing more was resolved.
    _run([pip, "check"], cwd=work, env=env)
    return Installed(venv)


@contextmanager
def _database(settings: Settings, folder: Path) -> Iterator[dict[str, str]]:
    """The environment of an installed instance: the embedded default, or its own database."""
    env = {
        **_clean_environment(),
        "KEYHOUSE_SECRET_KEY": secrets.token_urlsafe(48),
        "KEYHOUSE_LOG_LEVEL": "warning",
    }
    if settings.is_embedded:
        yield env  # no database URL: SQLite under ./var of the empty folder
        return
    name = f"keyhouse_installed_{secrets.token_hex(4)}"
    admin = settings.database_url.rsplit("/", 1)[0] + "/postgres"
    asyncio.run(_postgres(admin, f"CREATE DATABASE {name}"))
    try:
        yield {**env, "KEYHOUSE_DATABASE_URL": settings.database_url.rsplit("/", 1)[0] + f"/{name}"}
    finally:
        asyncio.run(_postgres(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


async def _postgres(dsn: str, statement: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def _alter_schema(env: dict[str, str], folder: Path) -> None:
    """A change made by hand, behind the migrations' back."""
    statement = "ALTER TABLE api_keys ADD COLUMN added_by_hand INTEGER"
    if "KEYHOUSE_DATABASE_URL" not in env:
        with sqlite3.connect(folder / "var" / "keyhouse.db") as connection:
            connection.execute(statement)
        return
    asyncio.run(_postgres(env["KEYHOUSE_DATABASE_URL"], statement))


def test_every_module_of_the_installed_package_imports_without_the_checkout(
    installed: Installed, tmp_path: Path
) -> None:
    python = installed.command("python")
    count = _run([python, "-c", IMPORT_EVERY_MODULE], cwd=tmp_path, env=_clean_environment())
    assert int(count) > 50
    located = _run(
        [python, "-c", "import keyhouse; print(keyhouse.__file__)"],
        cwd=tmp_path,
        env=_clean_environment(),
    )
    assert Path(located.strip()).is_relative_to(installed.venv)


def test_the_installed_package_migrates_serves_and_answers_with_a_key_it_made(
    installed: Installed, settings: Settings, tmp_path: Path
) -> None:
    keyhouse = installed.command("keyhouse")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with _database(settings, tmp_path) as database_env:
        env = {**database_env, "KEYHOUSE_BASE_URL": url}
        assert "latest schema" in _run([keyhouse, "db", "upgrade"], cwd=tmp_path, env=env)
        assert "(head)" in _run([keyhouse, "db", "current"], cwd=tmp_path, env=env)
        assert "matches the models" in _run([keyhouse, "db", "check"], cwd=tmp_path, env=env)
        _run(
            [keyhouse, "account", "create", "Acme", "--admin-email", "ana@acme.example", "--json"],
            cwd=tmp_path,
            env=env,
        )
        key_create = [keyhouse, "key", "create", "--account", "acme", "--name", "smoke"]
        key_json = _run([*key_create, "--access", "read_only", "--json"], cwd=tmp_path, env=env)
        secret = json.loads(key_json)["secret"]
        with _serving(keyhouse, port, env, tmp_path):
            _answers_like_a_deployment(url, secret)


@contextmanager
def _serving(keyhouse: str, port: int, env: dict[str, str], folder: Path) -> Iterator[None]:
    with (folder / "serve.log").open("w") as log:
        process = subprocess.Popen(
            [keyhouse, "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=folder,
            env=env,
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
        )
    try:
        wait_until_up(f"http://127.0.0.1:{port}", process)
        yield
    finally:
        process.terminate()
        process.wait(timeout=60)


def _answers_like_a_deployment(url: str, secret: str) -> None:
    with httpx.Client(base_url=url, timeout=10) as http:
        assert http.get("/healthz").status_code == 200
        assert http.get("/readyz").status_code == 200
        me = http.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
        assert me.status_code == 200, me.text
        assert me.json()["account"]["slug"] == "acme"
        assert http.get("/api/v1/me").status_code == 401
        server = http.get("/.well-known/oauth-authorization-server").json()
        assert server["issuer"] == url
        assert server["code_challenge_methods_supported"] == ["S256"]
        resource = http.get("/.well-known/oauth-protected-resource/mcp").json()
        assert resource["resource"] == f"{url}/mcp"


def test_db_check_fails_on_a_schema_changed_behind_the_migrations(
    installed: Installed, settings: Settings, tmp_path: Path
) -> None:
    keyhouse = installed.command("keyhouse")
    with _database(settings, tmp_path) as env:
        _run([keyhouse, "db", "upgrade"], cwd=tmp_path, env=env)
        _alter_schema(env, tmp_path)
        result = subprocess.run(
            [keyhouse, "db", "check"],
            cwd=tmp_path,
            env={**env, "COLUMNS": "200"},
            capture_output=True,
            text=True,
            timeout=COMMAND_SECONDS,
            check=False,
        )
    assert result.returncode == 1
    assert "Schema drift" in result.stderr and "added_by_hand" in result.stderr
