"""Lists beside `/api/v1/me`: pages of accounts and reps on the demo workspace, per database.

On a fresh database of each kind: `keyhouse demo` (5,000 accounts and 40 reps by default),
`ANALYZE` on PostgreSQL (as autovacuum would, and may be off), a read-only key of the demo
account, then wrk on `/api/v1/me` and each list path, alternating round by round. The floor
app (`bare_app.py`) serves the same 50-account page from the same database beside it: the
least FastAPI and the bare driver spend on that page, with Keyhouse's SQL.

Targets: a 50-account page at least half of `/me`'s requests/s (server CPU at most twice),
and its server CPU at most 1.5 times the floor's for the same page.
"""

import asyncio
import json
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import asyncpg as postgresql_asyncpg

import databases
import http_load
from keyhouse.config import Settings
from keyhouse.crm_accounts.repository import CrmAccountFilters, page_query
from keyhouse.kit.pagination import PageRequest
from report import Section, Target

THROUGHPUT_TARGET = 0.5  # accounts?limit=50 requests/s, as a share of /me's
FLOOR_TARGET = 1.5  # accounts?limit=50 server CPU, at most this many times the floor's
PAGE_50 = "/api/v1/accounts?limit=50"
LIST_PATHS = (PAGE_50, "/api/v1/reps?limit=50", "/api/v1/accounts?limit=500")
DEMO_ACCOUNT = "acme-revenue"


def _demo(env: dict[str, str], accounts: int) -> str:
    """Build the demo workspace through the CLI; a read-only key of it, as its header."""
    keyhouse = str(Path(sys.executable).with_name("keyhouse"))
    build = [keyhouse, "demo", "--accounts", str(accounts)]
    subprocess.run(build, env=env, check=True, capture_output=True)
    key = http_load.keyhouse_json(
        env, "key", "create", "--account", DEMO_ACCOUNT, "--name", "wrk", "--access", "read_only"
    )
    return f"Authorization: Bearer {key['secret']}"


async def _analyze(url: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


def _floor_page(settings: Settings, bearer: str, keyhouse: http_load.Server) -> str:
    """BENCH_BARE_PAGE for the floor: the database, and the SQL of an unfiltered page."""
    me = httpx.get(keyhouse.url + http_load.ME, headers=dict([bearer.split(": ")]), timeout=10)
    account_id = me.json()["account"]["id"]
    page = PageRequest(after=None, updated_since=None, limit=50)
    query = page_query(account_id=uuid.UUID(account_id), page=page, filters=CrmAccountFilters())
    statement = query.statement
    embedded = settings.database_url.startswith("sqlite")
    compiled = statement.compile(
        dialect=sqlite.dialect() if embedded else postgresql_asyncpg.dialect()
    )
    spec = {
        "database": settings.database_url,
        "sql": str(compiled),
        "params": list(compiled.positiontup or []),
        "account_id": account_id,
    }
    return json.dumps(spec)


def _loads(kind: str, accounts: int, seconds: int, warmup: int) -> dict[str, http_load.Load]:
    with databases.temporary_database(kind) as settings:
        env = databases.server_environment(settings)
        bearer = _demo(env, accounts)
        if kind == "postgresql":
            asyncio.run(_analyze(settings.database_url))
        logs = settings.var_dir
        with http_load.serving(env, logs / "server.log") as keyhouse:
            floor_env = {
                **env,
                "BENCH_BARE_TOKEN": bearer.split()[-1],
                "BENCH_BARE_PAGE": _floor_page(settings, bearer, keyhouse),
            }
            factory = "bare_app:create_bare_app"
            with http_load.serving(
                floor_env, logs / "floor.log", factory=factory, access_log=True
            ) as floor:
                runs = [
                    http_load.Run(f"{kind} {path}", keyhouse, path, [bearer])
                    for path in (http_load.ME, *LIST_PATHS)
                ]
                runs += [
                    http_load.Run(f"{kind} floor {path}", floor, path, [bearer])
                    for path in (http_load.ME, PAGE_50)
                ]
                return http_load.load_runs(runs, seconds, warmup)


def run(kinds: list[str], seconds: int, warmup: int, accounts: int = 5000) -> Section:
    """Every path's figures on each database, and the 50-account page against `/me`."""
    section = Section(
        f"Lists beside /api/v1/me on the demo workspace ({accounts:,} accounts, 40 reps)",
        ["database and path", "requests/s", "p50 ms", "p99 ms", "server CPU µs/req"],
    )
    for kind in kinds:
        loads = _loads(kind, accounts, seconds, warmup)
        section.rows += [http_load.row(load) for load in loads.values()]
        page, me = loads[f"{kind} {PAGE_50}"], loads[f"{kind} {http_load.ME}"]
        share, cpu_share = page.rps / me.rps, me.cpu_us / page.cpu_us
        goal = f"{kind}: {PAGE_50} ≥ {THROUGHPUT_TARGET:.0%} of {http_load.ME}'s requests/s"
        measured = f"{share:.0%} ({cpu_share:.0%} by server CPU: {page.cpu_us:.0f} µs)"
        section.targets.append(Target(goal, measured, min(share, cpu_share) >= THROUGHPUT_TARGET))
        floor_page = loads[f"{kind} floor {PAGE_50}"]
        floor_me = loads[f"{kind} floor {http_load.ME}"]
        ratio = page.cpu_us / floor_page.cpu_us
        goal = f"{kind}: {PAGE_50} server CPU ≤ {FLOOR_TARGET} times the floor's"
        measured = f"{ratio:.2f} times ({page.cpu_us:.0f} against {floor_page.cpu_us:.0f} µs)"
        section.targets.append(Target(goal, measured, ratio <= FLOOR_TARGET))
        floor_share = floor_me.cpu_us / floor_page.cpu_us
        section.notes.append(
            f"{kind}: the floor's own page is {floor_share:.0%} of the floor's /me by server CPU"
        )
    return section
