"""Real `keyhouse` processes for tests: the CLI and a uvicorn server on 127.0.0.1."""

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from keyhouse.config import Settings

KEYHOUSE = str(Path(sys.executable).with_name("keyhouse"))
STARTUP_SECONDS = 30


def environment(settings: Settings) -> dict[str, str]:
    """The environment that points a process at the test database."""
    assert settings.secret_key is not None
    return {
        **os.environ,
        "KEYHOUSE_DATABASE_URL": settings.database_url,
        "KEYHOUSE_SECRET_KEY": settings.secret_key.get_secret_value(),
        "KEYHOUSE_VAR_DIR": str(settings.var_dir),
        "KEYHOUSE_LAST_USED_FLUSH_SECONDS": "0.2",
        # The same lifted limits as the in-process app: these servers take floods of
        # revoked credentials from one address on purpose.
        "KEYHOUSE_AUTH_FAILURES_PER_IP": settings.auth_failures_per_ip,
        "KEYHOUSE_AUTH_FAILURES_PER_KEY_PREFIX": settings.auth_failures_per_key_prefix,
        "KEYHOUSE_OAUTH_REGISTRATIONS_PER_IP": settings.oauth_registrations_per_ip,
        "KEYHOUSE_KEY_REQUESTS": settings.key_requests,
        "KEYHOUSE_SECRET_SCANNING_REPORTS_PER_IP": settings.secret_scanning_reports_per_ip,
        "KEYHOUSE_SECRET_SCANNING_KEYS_FILE": str(settings.secret_scanning_keys_file),
        "COLUMNS": "200",
    }


def cli(settings: Settings, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run `keyhouse ARGS` and return what it printed."""
    result = subprocess.run(
        [KEYHOUSE, *args],
        env=environment(settings),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"keyhouse {' '.join(args)} failed: {result.stderr}")
    return result


def cli_json(settings: Settings, *args: str) -> dict[str, Any]:
    """Run a creating command with --json and parse its one object."""
    parsed: dict[str, Any] = json.loads(cli(settings, *args, "--json").stdout)
    return parsed


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running_server(settings: Settings, log_path: Path) -> Iterator[str]:
    """`keyhouse serve` on a free port, its stderr in `log_path`; yields its base URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [KEYHOUSE, "serve", "--port", str(port)],
            env={**environment(settings), "KEYHOUSE_BASE_URL": url},
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
        )
        try:
            wait_until_up(url, process)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)


def wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    """Return once `url`/readyz answers; fail if the process exits or takes too long."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("server did not start")
