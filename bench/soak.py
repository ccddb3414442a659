"""Soak: mixed traffic against two `keyhouse serve` instances on one PostgreSQL (and Redis).

REST reads and writes, MCP tool calls, OAuth refreshes, key creation and revocation, for
`--minutes` (default 10; KEYHOUSE_SOAK_MINUTES too). Prints the error count, p99 latency per
minute, and each instance's RSS after warm-up and at the end.

    .venv/bin/python bench/soak.py [--minutes 10] [--workers 8]
"""

import argparse
import asyncio
import base64
import hashlib
import os
import random
import re
import secrets
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy import select

from keyhouse import demo
from keyhouse.api_keys.models import AccessLevel
from keyhouse.config import Settings
from keyhouse.db import Database
from keyhouse.oauth import grants
from keyhouse.users.models import User

KEYHOUSE = str(Path(sys.executable).with_name("keyhouse"))
ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIRECT_URI = "http://127.0.0.1:33418/callback"
MCP_HEADERS = {
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-06-18",
}
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Samples:
    """Latencies per minute and every failure, by operation."""

    started: float = field(default_factory=time.monotonic)
    latencies: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    operations: Counter[str] = field(default_factory=Counter)

    def record(self, operation: str, began: float, ok: bool) -> None:
        """One request: its latency in its minute, and whether it failed."""
        minute = int((began - self.started) // 60)
        self.latencies[minute].append(time.monotonic() - began)
        self.operations[operation] += 1
        if not ok:
            self.errors[operation] += 1


@dataclass
class World:
    """What the traffic works on."""

    instances: list[str]
    read_key: str
    write_key: str
    account_ids: list[str]
    rep_ids: list[str]
    refresh: dict[str, str]  # client_id -> its current refresh token
    admin_csrf: dict[str, str]  # instance -> CSRF token of its signed-in admin session
    admin_clients: dict[str, httpx.AsyncClient]


def _env(settings: Settings, redis_url: str) -> dict[str, str]:
    assert settings.secret_key is not None
    return {
        **os.environ,
        "KEYHOUSE_DATABASE_URL": settings.database_url,
        "KEYHOUSE_SECRET_KEY": settings.secret_key.get_secret_value(),
        "KEYHOUSE_REDIS_URL": redis_url,
        "KEYHOUSE_LOG_LEVEL": "warning",
        # The soak measures the service, not the limits: give its few keys room.
        "KEYHOUSE_KEY_REQUESTS": "1000000/minute",
        "KEYHOUSE_OAUTH_REGISTRATIONS_PER_IP": "1000000/minute",
        # Key churn checks that revoked keys fail: from one address, on purpose, all along.
        "KEYHOUSE_AUTH_FAILURES_PER_IP": "1000000/minute",
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def _instances(env: dict[str, str], count: int) -> Iterator[list[tuple[str, int]]]:
    processes, urls = [], []
    ports = [_free_port() for _ in range(count)]
    # Behind a load balancer every instance has the same public origin: here, the first's.
    public = f"http://127.0.0.1:{ports[0]}"
    try:
        for port in ports:
            url = f"http://127.0.0.1:{port}"
            process = subprocess.Popen(
                [KEYHOUSE, "serve", "--port", str(port)],
                env={**env, "KEYHOUSE_BASE_URL": public},
                stdin=subprocess.DEVNULL,
            )
            processes.append(process)
            urls.append(url)
        for url in urls:
            _wait_up(url)
        yield [(url, process.pid) for url, process in zip(urls, processes, strict=True)]
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)


def _wait_up(url: str) -> None:
    for _ in range(300):
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} did not start")


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _cli(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [KEYHOUSE, *args], env=env, capture_output=True, text=True, check=True, timeout=600
    )
    return result.stdout


async def _connect_assistant(settings: Settings, http: httpx.AsyncClient, url: str) -> list[str]:
    """Register a client, approve it as the demo admin, exchange the code: (client, refresh)."""
    info = (
        await http.post(
            f"{url}/oauth/register",
            json={
                # One connection per client name: the same name would replace the last one.
                "client_name": f"Soak assistant {secrets.token_hex(3)}",
                "redirect_uris": [REDIRECT_URI],
                "token_endpoint_auth_method": "none",
            },
        )
    ).json()
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    challenge = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    settings = settings.model_copy(update={"base_url": url})
    database = Database(settings)
    async with database.transaction() as session:
        user = (await session.scalars(select(User).where(User.email == demo.ADMIN_EMAIL))).one()
        pending = grants.PendingAuthorization(
            client_id=info["client_id"],
            client_name=info["client_name"],
            redirect_uri=REDIRECT_URI,
            redirect_uri_provided_explicitly=True,
            code_challenge=challenge,
            state="soak",
            scopes=["read", "write"],
            requested=["read"],
            resource=f"{url}/mcp",
        )
        approved = await grants.approve(
            session, settings, user=user, pending=pending, access=AccessLevel.FULL_ACCESS
        )
    await database.dispose()
    code = str(httpx.URL(approved).params["code"])
    token = await http.post(
        f"{url}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "client_id": info["client_id"],
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": REDIRECT_URI,
        },
    )
    token.raise_for_status()
    return [info["client_id"], token.json()["refresh_token"]]


async def _sign_in(url: str) -> tuple[httpx.AsyncClient, str]:
    browser = httpx.AsyncClient(base_url=url, timeout=30)
    form = await browser.get("/login")
    match = CSRF_RE.search(form.text)
    assert match is not None
    data = {"email": demo.ADMIN_EMAIL, "password": demo.ADMIN_PASSWORD, "csrf_token": match[1]}
    assert (await browser.post("/login", data=data)).status_code == 303
    page = await browser.get("/")
    found = CSRF_RE.search(page.text)
    assert found is not None
    return browser, found[1]


Operation = Callable[[httpx.AsyncClient, World, str], Awaitable[bool]]


async def rest_read(http: httpx.AsyncClient, world: World, url: str) -> bool:
    """List accounts, or get one."""
    auth = {"Authorization": f"Bearer {world.read_key}"}
    if random.random() < 0.5:
        response = await http.get(f"{url}/api/v1/accounts", params={"limit": 50}, headers=auth)
    else:
        account = random.choice(world.account_ids)
        response = await http.get(f"{url}/api/v1/accounts/{account}", headers=auth)
    return response.status_code == 200


async def rest_write(http: httpx.AsyncClient, world: World, url: str) -> bool:
    """Update an account's fit score and owner."""
    auth = {"Authorization": f"Bearer {world.write_key}"}
    body = {"fit_score": random.randint(0, 100), "owner_rep_id": random.choice(world.rep_ids)}
    account = random.choice(world.account_ids)
    response = await http.patch(f"{url}/api/v1/accounts/{account}", json=body, headers=auth)
    return response.status_code == 200


async def mcp_call(http: httpx.AsyncClient, world: World, url: str) -> bool:
    """Call the `who_am_i` or `list_reps` tool with the read key."""
    tool = random.choice(["who_am_i", "list_reps"])
    message = {"jsonrpc": "2.0", "id": 1, "method": "tools/call"}
    message["params"] = {"name": tool, "arguments": {}}  # type: ignore[assignment]
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {world.read_key}"}
    response = await http.post(f"{url}/mcp", json=message, headers=headers)
    return response.status_code == 200 and "error" not in response.json()


async def oauth_refresh(http: httpx.AsyncClient, world: World, url: str) -> bool:
    """Rotate one connection's refresh token."""
    if not world.refresh:  # every connection is being rotated by another worker
        return True
    client_id = random.choice(list(world.refresh))
    token = world.refresh.pop(client_id)
    data = {"grant_type": "refresh_token", "client_id": client_id, "refresh_token": token}
    response = await http.post(f"{url}/oauth/token", data=data)
    if response.status_code != 200:
        print(f"refresh failed: {response.status_code} {response.text[:200]}", file=sys.stderr)
        return False
    world.refresh[client_id] = response.json()["refresh_token"]
    return True


async def key_churn(_http: httpx.AsyncClient, world: World, url: str) -> bool:
    """Create a key, use it, revoke it, and check the other instance refuses it."""
    browser, csrf = world.admin_clients[url], {"X-CSRF-Token": world.admin_csrf[url]}
    body = {"name": "soak churn", "access_level": "read_only"}
    created = await browser.post("/api/v1/api-keys", json=body, headers=csrf)
    if created.status_code != 201:
        print(f"key churn failed: create {created.status_code}", file=sys.stderr)
        return False
    key = created.json()
    auth = {"Authorization": f"Bearer {key['secret']}"}
    other = next(instance for instance in world.instances if instance != url)
    used = await _http_get(browser, f"{other}/api/v1/me", auth)
    revoked = await browser.post(f"/api/v1/api-keys/{key['id']}/revoke", headers=csrf)
    refused = await _http_get(browser, f"{other}/api/v1/me", auth)
    if (used, revoked.status_code, refused) != (200, 200, 401):
        steps = f"used {used}, revoked {revoked.status_code}, then {refused}"
        print(f"key churn failed: {steps}", file=sys.stderr)
        return False
    return True


async def _http_get(http: httpx.AsyncClient, url: str, headers: dict[str, str]) -> int:
    return (await http.get(url, headers=headers)).status_code


MIX: list[tuple[Operation, int]] = [
    (rest_read, 50),
    (rest_write, 20),
    (mcp_call, 20),
    (oauth_refresh, 7),
    (key_churn, 3),
]


async def _worker(world: World, samples: Samples, deadline: float) -> None:
    operations, weights = zip(*MIX, strict=True)
    async with httpx.AsyncClient(timeout=30) as http:
        while time.monotonic() < deadline:
            operation = random.choices(operations, weights)[0]
            url = random.choice(world.instances)
            began = time.monotonic()
            try:
                ok = await operation(http, world, url)
            except httpx.HTTPError:
                ok = False
            samples.record(operation.__name__, began, ok)


async def _seed(env: dict[str, str], settings: Settings, urls: list[str]) -> World:
    _cli(env, "demo", "--accounts", "5000")
    keys = []
    for access in ("read_only", "full_access"):
        out = _cli(env, "key", "create", "--account", "acme-revenue", "--name", "soak",
                   "--access", access, "--json")  # fmt: skip
        keys.append(re.search(r'"secret":"([^"]+)"', out)[1])  # type: ignore[index]
    auth = {"Authorization": f"Bearer {keys[0]}"}
    async with httpx.AsyncClient(base_url=urls[0], timeout=30) as http:
        accounts = (await http.get("/api/v1/accounts", params={"limit": 200}, headers=auth)).json()
        reps = (await http.get("/api/v1/reps", params={"limit": 40}, headers=auth)).json()
        refresh = dict([await _connect_assistant(settings, http, urls[0]) for _ in range(4)])
    signed_in = {url: await _sign_in(url) for url in urls}
    return World(
        instances=urls,
        read_key=keys[0],
        write_key=keys[1],
        account_ids=[item["id"] for item in accounts["data"]],
        rep_ids=[item["id"] for item in reps["data"] if item["active"]],
        refresh=refresh,
        admin_csrf={url: csrf for url, (_, csrf) in signed_in.items()},
        admin_clients={url: client for url, (client, _) in signed_in.items()},
    )


def _report(samples: Samples, rss: dict[int, list[float]], minutes: float) -> None:
    total, errors = sum(samples.operations.values()), sum(samples.errors.values())
    print(f"\nSoak: {minutes:g} min, 2 instances, {total:,} requests, errors {errors}")
    print(
        "operations: "
        + ", ".join(f"{name} {count:,}" for name, count in samples.operations.items())
    )
    if samples.errors:
        print("errors: " + ", ".join(f"{name} {count}" for name, count in samples.errors.items()))
    print("\n| minute | requests | p50 | p99 |\n|---:|---:|---:|---:|")
    for minute in sorted(samples.latencies):
        values = sorted(samples.latencies[minute])
        p50, p99 = values[len(values) // 2], values[min(len(values) - 1, int(len(values) * 0.99))]
        print(f"| {minute + 1} | {len(values):,} | {p50 * 1000:.1f} ms | {p99 * 1000:.1f} ms |")
    print("\n| instance | RSS after warm-up | RSS at end | growth |\n|---|---:|---:|---:|")
    for index, (start, end) in enumerate(rss.values(), 1):
        print(f"| {index} | {start:.0f} MiB | {end:.0f} MiB | {(end / start - 1) * 100:+.1f} % |")


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(ADMIN_DSN)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def soak(minutes: float, workers: int, redis_url: str) -> None:
    """Create a database, start two instances, drive the mix, print the figures."""
    name = f"keyhouse_soak_{secrets.token_hex(4)}"
    await _admin(f"CREATE DATABASE {name}")
    settings = Settings(
        database_url=f"postgresql://postgres@127.0.0.1:5432/{name}",
        secret_key=secrets.token_urlsafe(48),
    )
    env = _env(settings, redis_url)
    try:
        _cli(env, "db", "upgrade")
        with _instances(env, 2) as instances:
            world = await _seed(env, settings, [url for url, _ in instances])
            samples = Samples()
            deadline = time.monotonic() + minutes * 60
            warm_up = asyncio.create_task(asyncio.sleep(min(30.0, minutes * 6)))
            tasks = [asyncio.create_task(_worker(world, samples, deadline)) for _ in range(workers)]
            await warm_up
            rss = {pid: [_rss_mib(pid)] for _, pid in instances}
            await asyncio.gather(*tasks)
            for pid in rss:
                rss[pid].append(_rss_mib(pid))
            for client in world.admin_clients.values():
                await client.aclose()
            _report(samples, rss, minutes)
    finally:
        await _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def main() -> None:
    """Parse the options and soak."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_minutes = float(os.environ.get("KEYHOUSE_SOAK_MINUTES", "10"))
    parser.add_argument("--minutes", type=float, default=default_minutes)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    options = parser.parse_args()
    asyncio.run(soak(options.minutes, options.workers, options.redis_url))


if __name__ == "__main__":
    main()
