"""Lists beside `/api/v1/me`: pages of accounts and reps on the demo workspace, per database.

On a fresh database of each kind: `keyhouse demo` (5,000 accounts and 40 reps by default),
`ANALYZE` on PostgreSQL (as autovacuum would, and may be off), a read-only key of the demo
account, then wrk on `/api/v1/me` and each list path, alternating round by round on the same
server. The target compares a 50-account page with `/me`: requests/s at least half, which is
server CPU per request at most twice.
"""

import asyncio
import subprocess
import sys
from pathlib import Path

import asyncpg

import databases
import http_load
from report import Section, Target

THROUGHPUT_TARGET = 0.5  # accounts?limit=50 requests/s, as a share of /me's
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


def _loads(kind: str, accounts: int, seconds: int, warmup: int) -> dict[str, http_load.Load]:
    with databases.temporary_database(kind) as settings:
        env = databases.server_environment(settings)
        bearer = _demo(env, accounts)
        if kind == "postgresql":
            asyncio.run(_analyze(settings.database_url))
        with http_load.serving(env, settings.var_dir / "server.log") as server:
            paths = {http_load.ME: [bearer], **{path: [bearer] for path in LIST_PATHS}}
            return http_load.load_servers({kind: server}, paths, seconds, warmup)


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
    return section
