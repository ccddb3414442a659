"""Benchmark: how long a revoke takes with 2 and 4 instances on PostgreSQL, and proof that no
instance accepts a key once its revoke has returned.

Each instance is a real `keyhouse serve` process on a fresh PostgreSQL database. An admin signed
in on instance A revokes keys one after the other through the admin API while a load loop sends
requests with every key (revoked or not) to every instance; a 200 for a request sent after its
key's revoke returned would break the promise.

    .venv/bin/python bench/revocation.py
"""

import asyncio
import os
import random
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx
from rich.console import Console

from keyhouse.accounts import service as accounts
from keyhouse.api_keys import service as api_keys
from keyhouse.api_keys.models import AccessLevel
from keyhouse.audit.service import COMMAND_LINE
from keyhouse.auth.credential_cache import CredentialCache
from keyhouse.auth.revocation import RevocationFeed
from keyhouse.config import Settings
from keyhouse.db import Database, upgrade_to_head
from report import Section, Target, render

ADMIN_DSN = os.environ.get(
    "KEYHOUSE_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
KEYHOUSE = str(Path(sys.executable).with_name("keyhouse"))
REVOKES = 50
LOAD_CLIENTS = 4
PASSWORD = "bench password, long enough"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(ADMIN_DSN)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _arrange(settings: Settings) -> tuple[str, list[tuple[str, str]]]:
    """An account, its admin's email and REVOKES keys as (id, secret)."""
    database = Database(settings)
    RevocationFeed(settings, database, CredentialCache())
    email = f"admin-{secrets.token_hex(4)}@example.com"
    keys: list[tuple[str, str]] = []
    async with database.transaction() as session:
        account, _ = await accounts.create(
            session, COMMAND_LINE, name="Bench Co", admin_email=email, admin_password=PASSWORD
        )
        for index in range(REVOKES):
            key, secret = await api_keys.create(
                session,
                COMMAND_LINE,
                secret=settings.secret,
                account_id=account.id,
                name=f"bench {index}",
                access_level=AccessLevel.READ_ONLY,
            )
            keys.append((str(key.id), secret))
    await database.dispose()
    return email, keys


def _start(
    settings: Settings, count: int, logs: Path
) -> tuple[list[subprocess.Popen[bytes]], list[str]]:
    env = {
        **os.environ,
        "KEYHOUSE_DATABASE_URL": settings.database_url,
        "KEYHOUSE_SECRET_KEY": settings.secret.decode(),
        "KEYHOUSE_LOG_LEVEL": "warning",
    }
    processes, urls = [], []
    for index in range(count):
        port = _free_port()
        log = (logs / f"instance-{index}.log").open("w")
        processes.append(
            subprocess.Popen(
                [KEYHOUSE, "serve", "--port", str(port)],
                env=env,
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
            )
        )
        urls.append(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 60
    for url in urls:
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
    return processes, urls


async def _sign_in(admin: httpx.AsyncClient, email: str) -> str:
    form = await admin.get("/login")
    match = CSRF_RE.search(form.text)
    assert match is not None
    await admin.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": match[1]})
    page = await admin.get("/")
    match = CSRF_RE.search(page.text)
    assert match is not None, "sign-in failed"
    return match[1]


async def _load(
    urls: list[str],
    keys: list[tuple[str, str]],
    returned_at: dict[str, float],
    stop: asyncio.Event,
    seen: list[tuple[str, float, int]],
) -> None:
    """Requests with random keys to random instances until `stop`: (key id, sent at, status)."""
    async with httpx.AsyncClient(timeout=10) as http:
        while not stop.is_set():
            key_id, secret = random.choice(keys)
            sent = time.monotonic()
            response = await http.get(
                f"{random.choice(urls)}/api/v1/me", headers={"Authorization": f"Bearer {secret}"}
            )
            seen.append((key_id, sent, response.status_code))


async def _measure(settings: Settings, count: int, logs: Path) -> dict[str, float]:
    email, keys = await _arrange(settings)
    processes, urls = _start(settings, count, logs)
    try:
        async with httpx.AsyncClient(timeout=10) as warm:
            for _, secret in keys:
                for url in urls:
                    auth = {"Authorization": f"Bearer {secret}"}
                    assert (await warm.get(f"{url}/api/v1/me", headers=auth)).status_code == 200
        returned_at: dict[str, float] = {}
        seen: list[tuple[str, float, int]] = []
        stop = asyncio.Event()
        loaders = [
            asyncio.create_task(_load(urls, keys, returned_at, stop, seen))
            for _ in range(LOAD_CLIENTS)
        ]
        durations: list[float] = []
        baselines: list[float] = []
        async with httpx.AsyncClient(base_url=urls[0], timeout=10) as admin:
            csrf = await _sign_in(admin, email)
            for key_id, _ in keys:
                await asyncio.sleep(0.05)  # let the load loop reach every instance's cache
                started = time.monotonic()
                created = await admin.post(
                    "/api/v1/api-keys",
                    json={"name": "baseline", "access_level": "read_only"},
                    headers={"X-CSRF-Token": csrf},
                )
                assert created.status_code == 201, created.text
                baselines.append(time.monotonic() - started)
                started = time.monotonic()
                response = await admin.post(
                    f"/api/v1/api-keys/{key_id}/revoke", headers={"X-CSRF-Token": csrf}
                )
                returned_at[key_id] = time.monotonic()
                assert response.status_code == 200, response.text
                durations.append(returned_at[key_id] - started)
        await asyncio.sleep(0.2)
        stop.set()
        await asyncio.gather(*loaders)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
    after = [row for row in seen if row[0] in returned_at and row[1] > returned_at[row[0]]]
    quantiles = statistics.quantiles(durations, n=100, method="inclusive")
    return {
        "p50_ms": statistics.median(durations) * 1000,
        "create_p50_ms": statistics.median(baselines) * 1000,
        "p99_ms": quantiles[98] * 1000,
        "max_ms": max(durations) * 1000,
        "requests": len(seen),
        "after_revoke": len(after),
        "accepted_after_revoke": sum(1 for row in after if row[2] == 200),
    }


async def _run_case(count: int) -> dict[str, float]:
    name = f"keyhouse_bench_{secrets.token_hex(4)}"
    await _admin(f"CREATE DATABASE {name}")
    try:
        settings = Settings(
            database_url=f"postgresql://postgres@127.0.0.1:5432/{name}",
            secret_key=secrets.token_urlsafe(48),
            log_level="warning",
        )
        await asyncio.to_thread(upgrade_to_head, settings)
        with tempfile.TemporaryDirectory() as logs:
            return await _measure(settings, count, Path(logs))
    finally:
        await _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


REVOKE_TARGET_MS = 50.0  # p50 with 4 instances
COLUMNS = [
    "instances",
    "revokes",
    "revoke p50",
    "p99",
    "max",
    "create p50 (no revocation)",
    "requests (after a revoke)",
    "accepted after",
]


def run(counts: tuple[int, ...] = (2, 4)) -> Section:
    """One row per instance count; the 4-instance p50 and the promise as targets."""
    section = Section("Revocation on PostgreSQL: revoke on one instance, load on all", COLUMNS)
    for count in counts:
        row = asyncio.run(_run_case(count))
        section.rows.append(
            [
                str(count),
                str(REVOKES),
                f"{row['p50_ms']:.1f} ms",
                f"{row['p99_ms']:.1f} ms",
                f"{row['max_ms']:.1f} ms",
                f"{row['create_p50_ms']:.1f} ms",
                f"{row['requests']:,} ({row['after_revoke']:,})",
                str(row["accepted_after_revoke"]),
            ]
        )
        accepted = row["accepted_after_revoke"]
        goal = f"{count} instances: no request accepted once its key's revoke returned"
        section.targets.append(Target(goal, f"{accepted} accepted", accepted == 0))
        if count == 4:
            p50 = row["p50_ms"]
            goal = f"revoke p50 ≤ {REVOKE_TARGET_MS:.0f} ms with 4 instances"
            section.targets.append(Target(goal, f"{p50:.1f} ms", p50 <= REVOKE_TARGET_MS))
    return section


if __name__ == "__main__":
    render([run()], Console())
