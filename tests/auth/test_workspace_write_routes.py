"""A read-only key may preview (reads sent as POST); tests/auth/test_routes.py walks the writes."""

import httpx

from keyhouse.config import Settings
from keyhouse.db import Database
from tests.factories import make_tenant


async def test_a_read_only_key_may_preview(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    response = await client.post(
        "/api/v1/retrievals/preview",
        json={"criteria": [{"field": "fit_score", "op": "lte", "value": 10}]},
        headers=tenant.read,
    )
    assert response.status_code == 200
    assert response.json()["moves_total"] == 0
