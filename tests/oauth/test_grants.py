"""The grant, refused at every wrong step with the RFC error and nothing issued."""

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import func, select, update

from keyhouse.api_keys.models import AccessLevel
from keyhouse.audit.models import AuditEvent
from keyhouse.config import Settings
from keyhouse.connections.models import Connection
from keyhouse.db import Database
from keyhouse.oauth.models import ConnectionToken, OAuthCode
from tests.factories import make_tenant
from tests.oauth_flow import REDIRECT_URI, approve, connect, exchange, pkce, refresh, register


async def _me_status(client: httpx.AsyncClient, token: str) -> int:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": "2025-06-18",
    }
    return (await client.post("/mcp", json=body, headers=headers)).status_code


async def _tokens_issued(database: Database, client_id: str) -> int:
    async with database.sessions() as session:
        query = (
            select(func.count())
            .select_from(ConnectionToken)
            .join(Connection, Connection.id == ConnectionToken.connection_id)
            .where(Connection.client_id == client_id)
        )
        return int(await session.scalar(query) or 0)


async def _code_for(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> tuple[dict[str, str], str, str]:
    tenant = await make_tenant(database, settings)
    info = await register(client)
    verifier, challenge = pkce()
    code = await approve(
        database,
        settings,
        user=tenant.admin,
        client_info=info,
        access=AccessLevel.FULL_ACCESS,
        challenge=challenge,
    )
    return info, code, verifier


async def test_a_code_exchange_issues_rotating_tokens_that_are_never_cached(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    info, code, verifier = await _code_for(client, database, settings)
    response = await exchange(client, client_id=info["client_id"], code=code, verifier=verifier)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "read write"
    assert body["access_token"].startswith("kh_at_") and body["refresh_token"].startswith("kh_rt_")
    assert body["expires_in"] == settings.access_token_seconds


async def test_a_wrong_or_missing_pkce_verifier_is_refused(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    info, code, _verifier = await _code_for(client, database, settings)
    wrong = await exchange(client, client_id=info["client_id"], code=code, verifier="x" * 50)
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")
    missing = await client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "client_id": info["client_id"],
            "code": code,
            "redirect_uri": REDIRECT_URI,
        },
    )
    assert (missing.status_code, missing.json()["error"]) == (400, "invalid_request")
    assert await _tokens_issued(database, info["client_id"]) == 0


async def test_a_replayed_code_is_refused_and_revokes_what_it_issued(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    info, code, verifier = await _code_for(client, database, settings)
    first = await exchange(client, client_id=info["client_id"], code=code, verifier=verifier)
    token = first.json()["access_token"]
    assert await _me_status(client, token) == 200
    replay = await exchange(client, client_id=info["client_id"], code=code, verifier=verifier)
    assert (replay.status_code, replay.json()["error"]) == (400, "invalid_grant")
    assert await _me_status(client, token) == 401


async def test_an_expired_code_is_refused(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    info, code, verifier = await _code_for(client, database, settings)
    async with database.transaction() as session:
        await session.execute(
            update(OAuthCode)
            .where(OAuthCode.client_id == info["client_id"])
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    response = await exchange(client, client_id=info["client_id"], code=code, verifier=verifier)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")
    assert await _tokens_issued(database, info["client_id"]) == 0


async def test_a_redirect_uri_mismatch_at_the_token_endpoint_is_refused(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    info, code, verifier = await _code_for(client, database, settings)
    response = await exchange(
        client,
        client_id=info["client_id"],
        code=code,
        verifier=verifier,
        redirect_uri="http://127.0.0.1:33418/other",
    )
    assert response.status_code == 400
    assert await _tokens_issued(database, info["client_id"]) == 0


async def test_a_token_for_another_resource_is_refused(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    info, code, verifier = await _code_for(client, database, settings)
    response = await exchange(
        client,
        client_id=info["client_id"],
        code=code,
        verifier=verifier,
        resource="https://other.example/mcp",
    )
    assert (response.status_code, response.json()["error"]) == (400, "invalid_target")
    assert await _tokens_issued(database, info["client_id"]) == 0


async def test_an_unknown_client_is_invalid_client(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "client_id": "no-such-client",
            "code": "x",
            "code_verifier": "y" * 43,
        },
    )
    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")


async def test_refresh_rotates_and_the_previous_token_dies_once_the_new_one_is_used(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    connected = await connect(
        client, database, settings, user=tenant.admin, access=AccessLevel.READ_ONLY
    )
    first = await refresh(client, client_id=connected.client_id, token=connected.refresh_token)
    assert first.status_code == 200
    new_refresh = first.json()["refresh_token"]
    assert new_refresh != connected.refresh_token
    assert await _me_status(client, first.json()["access_token"]) == 200
    second = await refresh(client, client_id=connected.client_id, token=new_refresh)
    assert second.status_code == 200
    reuse = await refresh(client, client_id=connected.client_id, token=connected.refresh_token)
    assert (reuse.status_code, reuse.json()["error"]) == (400, "invalid_grant")
    assert await _me_status(client, second.json()["access_token"]) == 401
    async with database.sessions() as session:
        actions = (
            await session.scalars(
                select(AuditEvent.action).where(AuditEvent.account_id == tenant.account.id)
            )
        ).all()
    assert "connection.revoked_on_token_reuse" in actions


async def test_a_refresh_may_narrow_scope_but_never_widen_it(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    full = await connect(
        client, database, settings, user=tenant.admin, access=AccessLevel.FULL_ACCESS
    )
    narrowed = await client.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "client_id": full.client_id,
            "refresh_token": full.refresh_token,
            "scope": "read",
        },
    )
    assert narrowed.json()["scope"] == "read"
    wider = await client.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "client_id": full.client_id,
            "refresh_token": narrowed.json()["refresh_token"],
            "scope": "read write",
        },
    )
    assert (wider.status_code, wider.json()["error"]) == (400, "invalid_scope")


async def test_revocation_works_only_for_the_client_that_owns_the_token(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    connected = await connect(
        client, database, settings, user=tenant.admin, access=AccessLevel.READ_ONLY
    )
    stranger = await register(client, name="Stranger")
    foreign = await client.post(
        "/oauth/revoke", data={"token": connected.access_token, "client_id": stranger["client_id"]}
    )
    assert foreign.status_code == 200, foreign.text
    assert await _me_status(client, connected.access_token) == 200
    own = await client.post(
        "/oauth/revoke", data={"token": connected.refresh_token, "client_id": connected.client_id}
    )
    assert own.status_code == 200
    assert await _me_status(client, connected.access_token) == 401
    again = await refresh(client, client_id=connected.client_id, token=connected.refresh_token)
    assert again.status_code == 400


async def test_authorize_sends_valid_requests_to_consent_and_errors_back_with_iss(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    info = await register(client, redirect_uris=["http://127.0.0.1/callback"])
    _verifier, challenge = pkce()
    params = {
        "response_type": "code",
        "client_id": info["client_id"],
        "state": "s1",
        "redirect_uri": "http://127.0.0.1:54321/callback",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    ok = await client.get("/oauth/authorize", params=params)
    assert ok.status_code == 302
    assert ok.headers["location"].startswith(f"{settings.base_url}/oauth/consent?request=")
    plain = await client.get(
        "/oauth/authorize", params={**params, "code_challenge_method": "plain"}
    )
    error = httpx.URL(plain.headers["location"])
    assert error.params["error"] == "invalid_request"
    assert (error.params["state"], error.params["iss"]) == ("s1", settings.base_url)
    other = await client.get("/oauth/authorize", params={**params, "resource": "https://x.example"})
    assert httpx.URL(other.headers["location"]).params["error"] == "invalid_target"
    stranger = await client.get(
        "/oauth/authorize", params={**params, "redirect_uri": "https://attacker.example/cb"}
    )
    assert stranger.status_code == 400
    assert "location" not in stranger.headers
