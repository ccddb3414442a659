"""Two instances count the same key on the same day: their batches add up in one row."""

import os
import uuid
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from keyhouse.api_keys.models import AccessLevel
from keyhouse.config import Settings
from keyhouse.db import Database
from tests.cluster import running_cluster
from tests.factories import make_key, make_tenant
from tests.web.browsing import new_client, sign_in

pytestmark = [
    pytest.mark.skipif(
        os.environ.get("KEYHOUSE_TEST_DATABASE", "sqlite") != "postgresql",
        reason="several instances share one database only on PostgreSQL",
    ),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]


async def test_two_instances_add_to_the_same_days_counts(
    app: FastAPI, database: Database, settings: Settings, tmp_path: Path
) -> None:
    tenant = await make_tenant(database, settings)
    key, secret = await make_key(database, settings, tenant.account, AccessLevel.READ_ONLY)
    bearer = {"Authorization": f"Bearer {secret}", "User-Agent": "cluster-test/1"}
    # Leaving the block stops both instances, and each writes what it still holds on the way out.
    with running_cluster(settings, tmp_path) as cluster:
        first, second = cluster.instances
        async with (
            httpx.AsyncClient(base_url=first.url) as one,
            httpx.AsyncClient(base_url=second.url) as two,
        ):
            for _ in range(25):
                assert (await one.get("/api/v1/me", headers=bearer)).status_code == 200
                assert (await two.get("/api/v1/me", headers=bearer)).status_code == 200
            for _ in range(7):
                missing = await two.get(f"/api/v1/reps/{uuid.uuid4()}", headers=bearer)
                assert missing.status_code == 404
            async with httpx.AsyncClient(base_url=cluster.proxy) as proxy:
                for _ in range(10):
                    assert (await proxy.get("/api/v1/reps", headers=bearer)).status_code == 200
    async with new_client(app) as browser:
        await sign_in(browser, tenant.admin.email, "correct horse battery")
        body = (await browser.get(f"/api/v1/api-keys/{key.id}/usage", params={"days": 2})).json()
    totals = {
        field: sum(day[field] for day in body["data"])
        for field in ("requests", "ok", "errors", "rate_limited")
    }
    assert totals == {"requests": 67, "ok": 60, "errors": 7, "rate_limited": 0}
    assert body["last_used_user_agent"] == "cluster-test/1"
