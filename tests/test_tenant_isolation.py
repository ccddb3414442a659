"""A key of account A never sees or changes account B's data, not even its existence."""

import httpx

from keyhouse.config import Settings
from keyhouse.db import Database
from tests.factories import make_crm_account, make_rep, make_tenant


async def test_another_accounts_reps_and_accounts_are_404_for_reads_and_writes(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    mine, theirs = await make_tenant(database, settings), await make_tenant(database, settings)
    their_rep = await make_rep(database, theirs.account, name="Their Rep")
    their_account = await make_crm_account(database, theirs.account, name="Their Co")
    for url in (f"/api/v1/reps/{their_rep.id}", f"/api/v1/accounts/{their_account.id}"):
        assert (await client.get(url, headers=mine.write)).status_code == 404
        patched = await client.patch(url, json={"name": "Hijacked"}, headers=mine.write)
        assert patched.status_code == 404
    for url in ("/api/v1/reps", "/api/v1/accounts"):
        assert (await client.get(url, headers=mine.read)).json()["data"] == []
    still = await client.get(f"/api/v1/reps/{their_rep.id}", headers=theirs.read)
    assert still.json()["name"] == "Their Rep"


async def test_another_accounts_rep_cannot_become_an_owner(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    mine, theirs = await make_tenant(database, settings), await make_tenant(database, settings)
    their_rep = await make_rep(database, theirs.account)
    my_account = await make_crm_account(database, mine.account)
    response = await client.patch(
        f"/api/v1/accounts/{my_account.id}",
        json={"owner_rep_id": str(their_rep.id)},
        headers=mine.write,
    )
    assert response.status_code == 422
    assert response.json()["detail"].startswith("owner_rep_id")
    assert (await client.get(f"/api/v1/accounts/{my_account.id}", headers=mine.read)).json()[
        "owner_rep_id"
    ] is None
