"""Two OS processes run the same distribution at once: every account moves at most once."""

import asyncio
import json
import sys
from pathlib import Path

import httpx

from keyhouse.api_keys.models import AccessLevel
from keyhouse.config import Settings
from keyhouse.db import Database
from tests.factories import make_crm_accounts, make_key, make_rep, make_tenant

# Each worker connects, says "ready", waits for the go file, then runs the distribution in
# its own transaction through the service, as a second server process would.
WORKER = """
import asyncio, json, sys, uuid
from pathlib import Path
from sqlalchemy import text
from keyhouse.api_keys.models import AccessLevel
from keyhouse.auth.principal import CredentialKind, Principal
from keyhouse.config import Settings
from keyhouse.db import Database
from keyhouse.distributions import service
from keyhouse.errors import Conflict

async def main(args):
    settings = Settings(database_url=args["url"], secret_key=args["secret"], var_dir=args["var"])
    database = Database(settings)
    principal = Principal(
        account_id=uuid.UUID(args["account"]), account_slug="t", account_name="t",
        access=AccessLevel.FULL_ACCESS, credential=CredentialKind.API_KEY,
        credential_id=uuid.UUID(args["key"]), credential_name="worker",
        key_id=uuid.UUID(args["key"]),
    )
    async with database.sessions() as session:
        await session.execute(text("SELECT 1"))
    print("ready", flush=True)
    while not Path(args["go"]).exists():
        await asyncio.sleep(0.002)
    try:
        async with database.transaction() as session:
            out = await service.run(
                session, principal, distribution_id=uuid.UUID(args["distribution"])
            )
        print("ran", out.distribution.moved_count, flush=True)
    except Conflict:
        print("conflict", flush=True)
    finally:
        await database.dispose()

asyncio.run(main(json.loads(sys.argv[1])))
"""


async def _start_worker(args: dict[str, str]) -> asyncio.subprocess.Process:
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WORKER, json.dumps(args), stdout=asyncio.subprocess.PIPE
    )
    assert worker.stdout is not None
    assert (await asyncio.wait_for(worker.stdout.readline(), 30)).strip() == b"ready"
    return worker


async def _outcome(worker: asyncio.subprocess.Process) -> str:
    out, _ = await asyncio.wait_for(worker.communicate(), 60)
    assert worker.returncode == 0
    return out.decode().strip()


async def test_two_processes_running_one_distribution_move_each_account_once(
    client: httpx.AsyncClient, database: Database, settings: Settings, tmp_path: Path
) -> None:
    tenant = await make_tenant(database, settings)
    key, _ = await make_key(database, settings, tenant.account, AccessLevel.FULL_ACCESS)
    reps = [await make_rep(database, tenant.account) for _ in range(3)]
    await make_crm_accounts(database, tenant.account, 900)
    created = await client.post(
        "/api/v1/distributions",
        json={
            "name": "Race",
            "type": "fixed_per_rep",
            "amount_per_rep": 200,
            "recipient_rep_ids": [str(rep.id) for rep in reps],
            "ranking": [{"field": "fit_score", "direction": "desc"}],
        },
        headers=tenant.write,
    )
    go = tmp_path / "go"
    args = {
        "url": settings.database_url,
        "secret": settings.secret.decode(),
        "var": str(settings.var_dir),
        "account": str(tenant.account.id),
        "key": str(key.id),
        "distribution": created.json()["id"],
        "go": str(go),
    }
    workers = [await _start_worker(args) for _ in range(2)]
    go.touch()
    outcomes = sorted(await asyncio.gather(*(_outcome(worker) for worker in workers)))
    assert outcomes == ["conflict", "ran 600"]
    path = f"/api/v1/distributions/{created.json()['id']}/transfers"
    transfers = (await client.get(path, params={"limit": 500}, headers=tenant.read)).json()
    rest = await client.get(
        path, params={"limit": 500, "cursor": transfers["next_cursor"]}, headers=tenant.read
    )
    moved = [row["crm_account_id"] for row in transfers["data"] + rest.json()["data"]]
    assert len(moved) == len(set(moved)) == 600
    for rep in reps:
        owned = await client.get(
            "/api/v1/accounts",
            params={"owner_rep_id": str(rep.id), "limit": 500},
            headers=tenant.read,
        )
        assert len(owned.json()["data"]) == 200
