"""Benchmark: preview and run of a top_off distribution, 5,000 and 200,000 accounts (SQLite).

Each measurement runs in a fresh process, so its peak RSS (ru_maxrss) is its own; a run works
on its own copy of the database, since a distribution runs once.

    .venv/bin/python bench/distributions.py
"""

import asyncio
import json
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from keyhouse import demo
from keyhouse.api_keys.models import AccessLevel, KeyKind
from keyhouse.auth.principal import Principal
from keyhouse.config import Settings
from keyhouse.crm_accounts.criteria import SortKey
from keyhouse.db import Database, upgrade_to_head
from keyhouse.distributions import service as distributions
from keyhouse.distributions.models import DistributionType
from keyhouse.distributions.schemas import DistributionCreate
from keyhouse.reps.models import Rep
from keyhouse.target_books.models import TargetBook

SECRET = "bench-secret-bench-secret-bench-secret-0123456789"
# (label, accounts, reps, room per rep above its current load; None keeps the demo's books)
CASES = [
    ("demo 5k", 5_000, 40, None),
    ("200k, +10/rep", 200_000, 400, 10),
    ("200k, +50/rep", 200_000, 400, 50),
    ("200k, +100/rep", 200_000, 400, 100),
    ("200k, +200/rep", 200_000, 400, 200),
]


def _settings(var_dir: Path) -> Settings:
    return Settings(var_dir=var_dir, secret_key=SECRET, log_level="warning")


def _principal(account_id: uuid.UUID) -> Principal:
    return Principal(
        account_id=account_id,
        account_slug="acme-revenue",
        account_name=demo.DEMO_ACCOUNT_NAME,
        access=AccessLevel.FULL_ACCESS,
        key_id=uuid.UUID(int=1),
        key_name="bench",
        key_kind=KeyKind.API_KEY,
    )


async def _build(var_dir: Path, accounts: int, reps: int) -> uuid.UUID:
    database = Database(_settings(var_dir))
    async with database.transaction() as session:
        built = await demo.build(session, reps=reps, crm_accounts=accounts)
    await database.dispose()
    return built.account.id


async def _prepare(var_dir: Path, account_id: uuid.UUID, room: int | None) -> uuid.UUID:
    """Set book capacities to (average load + room), then create the top_off draft."""
    database = Database(_settings(var_dir))
    principal = _principal(account_id)
    async with database.transaction() as session:
        if room is not None:
            average = accounts_owned_per_rep(var_dir)
            await session.execute(update(TargetBook).values(max_capacity=average + room))
        rep_ids = list(await session.scalars(select(Rep.id).order_by(Rep.name, Rep.id)))
        draft = await distributions.create(
            session,
            principal,
            data=DistributionCreate(
                name="Bench top-off",
                type=DistributionType.TOP_OFF,
                recipient_rep_ids=rep_ids,
                ranking=[SortKey(field="fit_score", direction="desc")],
            ),
        )
    await database.dispose()
    return draft.id


def accounts_owned_per_rep(var_dir: Path) -> int:
    """The demo deals 60% of accounts to active reps; the mean is what capacity is set from."""
    with sqlite3.connect(var_dir / "keyhouse.db") as connection:
        owned, reps = connection.execute(
            "SELECT (SELECT count(*) FROM crm_accounts WHERE owner_rep_id IS NOT NULL), "
            "(SELECT count(*) FROM reps WHERE active)"
        ).fetchone()
    return int(owned / reps)


async def _measure(
    phase: str, var_dir: Path, account_id: uuid.UUID, draft: uuid.UUID
) -> dict[str, Any]:
    database = Database(_settings(var_dir))
    principal = _principal(account_id)
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    async with database.transaction() as session:
        if phase == "preview":
            plan = await distributions.preview(session, principal, distribution_id=draft)
            moved = plan.moves_total
        else:
            ran = await distributions.run(session, principal, distribution_id=draft)
            moved = ran.distribution.moved_count
    seconds = time.perf_counter() - started
    await database.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "seconds": seconds,
        "moved": moved,
        "peak_mib": peak / 1024,
        "base_mib": baseline / 1024,
    }


def _child(*args: str) -> dict[str, Any]:
    """Run one step in a fresh process (Linux carries a parent's peak RSS into its children,
    so the parent never builds data itself) and return the JSON it prints."""
    command = [sys.executable, __file__, *args]
    finished = subprocess.run(command, check=False, capture_output=True, text=True)
    if finished.returncode:
        raise SystemExit(f"{args[0]} failed:\n{finished.stderr}")
    result: dict[str, Any] = json.loads(finished.stdout.strip().splitlines()[-1])
    return result


def _row(label: str, accounts: int, phase: str, result: dict[str, Any]) -> str:
    per_1k = result["seconds"] / result["moved"] * 1000 if result["moved"] else 0.0
    delta = result["peak_mib"] - result["base_mib"]
    return (
        f"| {label} | {accounts:,} | {phase} | {result['moved']:,} | {result['seconds']:.2f} s "
        f"| {per_1k:.3f} s | {result['peak_mib']:.0f} MiB (+{delta:.0f}) |"
    )


def main() -> None:
    """Build each workspace once, then preview and run in fresh processes; print a table."""
    print(
        "| workspace | accounts | phase | accounts moved | time | per 1k moved | peak RSS (delta) |"
    )
    print("|---|---:|---|---:|---:|---:|---:|")
    built: dict[int, tuple[Path, str]] = {}
    with tempfile.TemporaryDirectory(prefix="keyhouse-bench-") as scratch:
        for label, accounts, reps, room in CASES:
            if accounts not in built:
                source = Path(scratch) / f"source-{accounts}"
                made = _child("build", str(source), str(accounts), str(reps))
                built[accounts] = (source, made["account_id"])
            source, account_id = built[accounts]
            case_dir = Path(scratch) / "case"
            shutil.copytree(source, case_dir)
            draft = _child("prepare", str(case_dir), account_id, str(room))["draft_id"]
            for phase in ("preview", "run"):
                result = _child(phase, str(case_dir), account_id, draft)
                print(_row(label, accounts, phase, result), flush=True)
            shutil.rmtree(case_dir)


async def _step(step: str, var_dir: Path, *args: str) -> dict[str, Any]:
    if step == "build":
        return {"account_id": str(await _build(var_dir, int(args[0]), int(args[1])))}
    account_id = uuid.UUID(args[0])
    if step == "prepare":
        room = None if args[1] == "None" else int(args[1])
        return {"draft_id": str(await _prepare(var_dir, account_id, room))}
    return await _measure(step, var_dir, account_id, uuid.UUID(args[1]))


if __name__ == "__main__":
    if len(sys.argv) > 1:
        if sys.argv[1] == "build":
            upgrade_to_head(_settings(Path(sys.argv[2])))
        print(json.dumps(asyncio.run(_step(sys.argv[1], Path(sys.argv[2]), *sys.argv[3:]))))
    else:
        main()
