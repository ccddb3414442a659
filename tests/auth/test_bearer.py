"""RFC 6750 behaviour of the one authenticator, through HTTP."""

import asyncio
from datetime import timedelta

import httpx

from keyhouse.api_keys.models import AccessLevel
from keyhouse.config import Settings
from keyhouse.db import Database
from tests.factories import make_key, make_tenant, revoke_key


async def test_no_credentials_is_401_with_a_bare_challenge(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="keyhouse"'
    assert response.json()["error"] == "unauthorized"


async def test_a_basic_auth_header_counts_as_no_bearer_credentials(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/v1/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status_code == 401
    assert "error=" not in response.headers["www-authenticate"]


async def test_a_valid_key_says_who_it_is(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    response = await client.get("/api/v1/me", headers=tenant.read)
    assert response.status_code == 200
    body = response.json()
    assert body["account"]["slug"] == tenant.account.slug
    assert body["access_level"] == "read_only"
    assert body["scopes"] == ["read"]
    full = (await client.get("/api/v1/me", headers=tenant.write)).json()
    assert full["access_level"] == "full_access"
    assert full["scopes"] == ["read", "write"]


async def test_unknown_and_mistyped_keys_are_invalid_token(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    mistyped = tenant.read_key[:-1] + ("A" if tenant.read_key[-1] != "A" else "B")
    oversized = tenant.read_key + "A" * 10_000
    # The real key is verified first, so its credential is cached when its variants arrive.
    assert (await client.get("/api/v1/me", headers=tenant.read)).status_code == 200
    for token in ("garbage", mistyped, "kh_key_" + "A" * 43 + "_AAAAAA", oversized):
        response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token
        assert response.json()["error"] == "invalid_token"
        assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_two_tokens_in_one_header_is_a_bad_request(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    header = {"Authorization": f"Bearer {tenant.read_key} {tenant.write_key}"}
    response = await client.get("/api/v1/me", headers=header)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_a_token_in_the_query_string_is_refused(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    for params in ({"access_token": tenant.read_key}, {"q": tenant.read_key}):
        response = await client.get("/api/v1/reps", params=params, headers=tenant.read)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"


async def test_read_only_key_cannot_write(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    body = {"name": "Nia Ross", "email": "nia@example.com"}
    response = await client.post("/api/v1/reps", json=body, headers=tenant.read)
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"
    assert 'scope="read write"' in response.headers["www-authenticate"]
    listed = await client.get("/api/v1/reps", headers=tenant.read)
    assert listed.json()["data"] == []


async def test_a_revoked_key_is_refused_on_the_very_next_request(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    key, secret = await make_key(database, settings, tenant.account, AccessLevel.FULL_ACCESS)
    header = {"Authorization": f"Bearer {secret}"}
    assert (await client.get("/api/v1/me", headers=header)).status_code == 200  # now cached
    await revoke_key(database, key)
    response = await client.get("/api/v1/me", headers=header)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


async def test_an_expired_key_is_refused_the_moment_it_expires(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    _, secret = await make_key(
        database, settings, tenant.account, AccessLevel.READ_ONLY, expires_in=timedelta(seconds=1)
    )
    header = {"Authorization": f"Bearer {secret}"}
    assert (await client.get("/api/v1/me", headers=header)).status_code == 200
    await asyncio.sleep(1.05)
    response = await client.get("/api/v1/me", headers=header)
    assert response.status_code == 401
    assert response.json()["detail"] == "The credential has expired."
