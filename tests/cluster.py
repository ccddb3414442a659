"""Several real `keyhouse serve` processes on the test database, and nginx in front of them."""

import asyncio
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest

from keyhouse.auth.revocation_listener import APPLICATION_NAME
from keyhouse.config import Settings
from tests.servers import KEYHOUSE, STARTUP_SECONDS, environment, free_port, wait_until_up

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
NGINX_TEMPLATE = Path(__file__).resolve().parents[1] / "deploy" / "nginx.conf"


@dataclass(frozen=True)
class Instance:
    """One server process: its own URL and its process id."""

    url: str
    pid: int


@dataclass(frozen=True)
class Cluster:
    """The instances, and nginx spreading requests over them round-robin."""

    instances: list[Instance]
    proxy: str

    @property
    def urls(self) -> list[str]:
        """Every way in: each instance directly, then nginx."""
        return [instance.url for instance in self.instances] + [self.proxy]


@contextmanager
def running_instance(settings: Settings, log_path: Path, *, workers: int = 1) -> Iterator[Instance]:
    """`keyhouse serve` on a free port; its public origin stays the settings' base URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [KEYHOUSE, "serve", "--port", str(port), "--workers", str(workers)],
            env={**environment(settings), "KEYHOUSE_BASE_URL": settings.base_url},
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
        )
        try:
            wait_until_up(url, process)
            yield Instance(url, process.pid)
        finally:
            process.terminate()
            process.wait(timeout=30)


@contextmanager
def running_nginx(upstreams: list[str], run_dir: Path) -> Iterator[str]:
    """nginx (not daemonized) with the repository's config, in `run_dir`; yields its URL."""
    if not Path(NGINX).exists():
        pytest.fail("nginx is missing: `make test` installs it (apt-get install -y nginx)")
    port = free_port()
    servers = "\n        ".join(
        f"server {upstream.removeprefix('http://')};" for upstream in upstreams
    )
    config = (
        NGINX_TEMPLATE.read_text()
        .replace("@RUN_DIR@", str(run_dir))
        .replace("@LISTEN@", f"127.0.0.1:{port}")
        .replace("@UPSTREAMS@", servers)
    )
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "nginx.conf").write_text(config)
    with (run_dir / "stderr.log").open("w") as stderr:
        process = subprocess.Popen(
            [NGINX, "-p", str(run_dir), "-c", str(run_dir / "nginx.conf"), "-g", "daemon off;"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_proxy(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_for_proxy(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"nginx exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("nginx did not start")


@contextmanager
def running_cluster(settings: Settings, run_dir: Path, *, count: int = 2) -> Iterator[Cluster]:
    """`count` instances behind nginx, all on the settings' database."""
    with ExitStack() as stack:
        instances = [
            stack.enter_context(running_instance(settings, run_dir / f"instance-{index}.log"))
            for index in range(count)
        ]
        proxy = stack.enter_context(
            running_nginx([instance.url for instance in instances], run_dir / "nginx")
        )
        yield Cluster(instances, proxy)


async def kill_listener(settings: Settings, instance: Instance) -> int:
    """Terminate the instance's LISTEN connection from the server side; how many were ended.

    An instance whose listener an earlier test killed connects a new one after a pause (and
    the old backend can linger while it exits), so this first waits, within
    STARTUP_SECONDS, for the instance to have exactly one.
    """
    dsn = settings.async_database_url.replace("postgresql+asyncpg://", "postgresql://")
    name = f"{APPLICATION_NAME}:{instance.pid}"
    connection = await asyncpg.connect(dsn)
    try:
        for _ in range(STARTUP_SECONDS * 10):
            if await _listeners(connection, name) == 1:
                break
            await asyncio.sleep(0.1)
        ended: int = await connection.fetchval(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = $1) AS ended",
            name,
        )
    finally:
        await connection.close()
    return ended


async def _listeners(connection: asyncpg.Connection, name: str) -> int:
    found: int = await connection.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", name
    )
    return found
