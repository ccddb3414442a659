"""Database faults on a real `keyhouse serve`: PostgreSQL stops and starts, an instance dies.

PostgreSQL only: the embedded SQLite default has no server to lose.
"""

import asyncio
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy import func, select

from keyhouse.config import Settings
from keyhouse.crm_accounts.models import CrmAccount
from keyhouse.db import Database
from keyhouse.distributions.models import Distribution, DistributionStatus
from keyhouse.ownership.models import OwnershipChange
from keyhouse.reps.models import Rep
from keyhouse.usage.models import KeyUsageDay
from tests.factories import make_crm_accounts, make_rep, make_tenant, unique
from tests.servers import running_server

pytestmark = pytest.mark.skipif(
    os.environ.get("KEYHOUSE_TEST_DATABASE", "sqlite") != "postgresql",
    reason="database faults need a PostgreSQL server to stop; the embedded SQLite has none",
)
OUTAGE_SECONDS = 10
RECOVERY_DEADLINE_SECONDS = 120
UNAVAILABLE = {"error": "service_unavailable"}


def _cluster(action: str) -> None:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action]
    subprocess.run([*command, *(["-m", "fast"] if action == "stop" else [])], check=True)


@contextmanager
def postgresql_stopped() -> Iterator[None]:
    """PostgreSQL is down inside the block and always running again after it."""
    _cluster("stop")
    try:
        yield
    finally:
        _cluster("start")


@dataclass
class Outcome:
    """One request of the load: when it was sent and answered, and what it got."""

    sent: float
    answered: float
    status: int
    body: str
    email: str | None = None


@dataclass
class Load:
    """Reads with a cached key (one of them a list page) and writes that each create one rep."""

    url: str
    read: dict[str, str]
    write: dict[str, str]
    outcomes: list[Outcome] = field(default_factory=list)
    running: bool = True

    async def run(self) -> None:
        """Alternate reads and writes until `running` is cleared."""
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as http:
            while self.running:
                await self._one(http, "GET", "/api/v1/me", self.read, None)
                await self._one(http, "GET", "/api/v1/reps?limit=5", self.read, None)
                email = f"{unique('fault')}@example.com"
                body = {"name": "Fault rep", "email": email}
                await self._one(http, "POST", "/api/v1/reps", self.write, body)

    async def _one(
        self,
        http: httpx.AsyncClient,
        method: str,
        path: str,
        headers: dict[str, str],
        body: dict[str, str] | None,
    ) -> None:
        sent = time.monotonic()
        try:
            response = await http.request(method, path, headers=headers, json=body)
        except httpx.TransportError:
            return
        email = body["email"] if body else None
        self.outcomes.append(
            Outcome(sent, time.monotonic(), response.status_code, response.text, email)
        )
        await asyncio.sleep(0.02)


async def _wait_ready(url: str) -> None:
    deadline = time.monotonic() + RECOVERY_DEADLINE_SECONDS
    async with httpx.AsyncClient(base_url=url, timeout=5) as http:
        while time.monotonic() < deadline:
            try:
                if (await http.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError("the server did not recover from the database outage by itself")


async def _reps_by_email(settings: Settings, emails: list[str]) -> dict[str, int]:
    database = Database(settings)  # a fresh pool: the shared one lost its connections
    try:
        async with database.sessions() as session:
            query = select(Rep.email, func.count()).where(Rep.email.in_(emails)).group_by(Rep.email)
            return {email: count for email, count in (await session.execute(query)).all()}
    finally:
        await database.dispose()


async def _ok_requests_counted(settings: Settings, account_id: uuid.UUID) -> int:
    database = Database(settings)  # a fresh pool: the shared one lost its connections
    try:
        async with database.sessions() as session:
            query = select(func.sum(KeyUsageDay.ok)).where(KeyUsageDay.account_id == account_id)
            return int(await session.scalar(query) or 0)
    finally:
        await database.dispose()


async def test_a_database_outage_is_503_then_the_service_recovers_and_loses_no_write(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    tenant = await make_tenant(database, settings)
    with running_server(settings, tmp_path / "server.log") as url:
        load = Load(url, tenant.read, tenant.write)
        task = asyncio.create_task(load.run())
        try:
            await asyncio.sleep(1)  # the key is verified and cached before the outage
            with postgresql_stopped():
                stopped = time.monotonic()
                await asyncio.sleep(OUTAGE_SECONDS)
                restarting = time.monotonic()
            await _wait_ready(url)
            await asyncio.sleep(1)
        finally:
            load.running = False
            await task
            await database.dispose()  # the test app's pool held connections to the old server
        log = (tmp_path / "server.log").read_text()
    during = [o for o in load.outcomes if o.sent > stopped and o.answered < restarting]
    assert during, "no request was answered during the outage"
    for outcome in during:
        assert outcome.status == 503, (outcome.status, outcome.body)
        assert httpx.Response(503, text=outcome.body).json()["error"] == UNAVAILABLE["error"]
    assert all(o.status in {200, 201, 503} for o in load.outcomes), {
        (o.status, o.body) for o in load.outcomes if o.status not in {200, 201, 503}
    }
    after = [o for o in load.outcomes if o.sent > restarting]
    assert any(o.status == 200 for o in after) and any(o.status == 201 for o in after)
    written = [o.email for o in load.outcomes if o.email is not None]
    stored = await _reps_by_email(settings, [email for email in written if email])
    acknowledged = [o.email for o in load.outcomes if o.status == 201 and o.email]
    assert all(stored.get(email) == 1 for email in acknowledged)
    assert all(count == 1 for count in stored.values())
    # Usage counted while the writer could not flush is written once the database is back:
    # every answered request exactly once, none lost with a failed flush, none written twice.
    answered_ok = sum(o.status in {200, 201} for o in load.outcomes)
    assert await _ok_requests_counted(settings, tenant.account.id) == answered_ok
    assert "Traceback" not in log


async def _transaction_in_progress(settings: Settings) -> bool:
    name = settings.database_url.rsplit("/", 1)[1]
    connection = await asyncpg.connect(settings.database_url)
    try:
        busy = await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> "
            "pg_backend_pid() AND query ILIKE 'UPDATE crm_accounts%' AND xact_start IS NOT NULL",
            name,
        )
    finally:
        await connection.close()
    return bool(busy)


async def test_killing_an_instance_mid_run_leaves_the_distribution_all_or_nothing(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    tenant = await make_tenant(database, settings)
    reps = [await make_rep(database, tenant.account) for _ in range(20)]
    await make_crm_accounts(database, tenant.account, 20_000)
    body = {
        "name": "Big hand-out",
        "type": "fixed_per_rep",
        "recipient_rep_ids": [str(rep.id) for rep in reps],
        "amount_per_rep": 1_000,
    }
    with running_server(settings, tmp_path / "server.log") as url:
        async with httpx.AsyncClient(base_url=url, timeout=120) as http:
            created = await http.post("/api/v1/distributions", json=body, headers=tenant.write)
            assert created.status_code == 201, created.text
            run = asyncio.create_task(
                http.post(f"/api/v1/distributions/{created.json()['id']}/run", headers=tenant.write)
            )
            while not run.done() and not await _transaction_in_progress(settings):  # noqa: ASYNC110 - polls another process
                await asyncio.sleep(0.01)
            server_pid = _server_pid(url)
            os.kill(server_pid, signal.SIGKILL)
            outcome = await asyncio.gather(run, return_exceptions=True)
    distribution_id = created.json()["id"]
    moved, recorded, status = await _distribution_state(
        settings, tenant.account.id, distribution_id
    )
    if isinstance(outcome[0], httpx.Response) and outcome[0].status_code == 200:
        assert (moved, recorded, status) == (20_000, 20_000, DistributionStatus.COMPLETED)
    else:
        assert (moved, recorded, status) == (0, 0, DistributionStatus.DRAFT)


def _server_pid(url: str) -> int:
    port = url.rsplit(":", 1)[1]
    found = subprocess.run(
        ["fuser", f"{port}/tcp"], capture_output=True, text=True, check=False
    ).stdout.split()
    assert found, f"no process listens on {port}"
    return int(found[0])


async def _distribution_state(
    settings: Settings, account_id: uuid.UUID, distribution_id: str
) -> tuple[int, int, DistributionStatus]:
    database = Database(settings)
    try:
        async with database.sessions() as session:
            moved = await session.scalar(
                select(func.count())
                .select_from(CrmAccount)
                .where(CrmAccount.account_id == account_id, CrmAccount.owner_rep_id.is_not(None))
            )
            recorded = await session.scalar(
                select(func.count())
                .select_from(OwnershipChange)
                .where(OwnershipChange.account_id == account_id)
            )
            distribution = await session.get_one(Distribution, uuid.UUID(distribution_id))
            return moved or 0, recorded or 0, distribution.status
    finally:
        await database.dispose()
