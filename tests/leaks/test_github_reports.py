"""GitHub secret scanning reports: signed by GitHub, every live token revoked before the answer.

Documented behaviour for the doubtful cases (README, "Leaked keys"):
- a tampered body, an unknown key identifier or a missing signature: 401 `invalid_signature`,
  nothing looked up or revoked;
- a replayed report (GitHub signatures carry no nonce): 200 with the same labels; the tokens
  are already revoked, so nothing changes.
"""

import hashlib
import json
from datetime import timedelta

import httpx
from sqlalchemy import func, select

from keyhouse.api_keys.models import AccessLevel
from keyhouse.audit.models import AuditEvent
from keyhouse.config import Settings
from keyhouse.db import Database
from keyhouse.kit import tokens
from keyhouse.users.models import Role
from tests.factories import make_key, make_tenant, make_user
from tests.kit.test_rate_limits import app_with
from tests.leaks.github import OLD_KEY_ID, PATH, payload, report, sign
from tests.oauth_flow import connect, refresh
from tests.web.browsing import new_client, sign_in

PASSWORD = "correct horse battery"
LEAK_URL = "https://github.com/octo/app/blob/1f2e3d/config/prod.env"
MCP_HEADERS = {
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-06-18",
}


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def _mcp_status(client: httpx.AsyncClient, token: str) -> int:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    response = await client.post("/mcp", json=body, headers={**MCP_HEADERS, **_bearer(token)})
    return response.status_code


async def _events(database: Database) -> int:
    async with database.sessions() as session:
        return await session.scalar(select(func.count()).select_from(AuditEvent)) or 0


async def test_a_reported_key_and_connection_tokens_are_revoked_before_the_answer(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    key, secret = await make_key(database, settings, tenant.account, AccessLevel.FULL_ACCESS)
    connected = await connect(
        client, database, settings, user=tenant.admin, access=AccessLevel.READ_ONLY
    )
    member, _ = await make_user(database, tenant.account, Role.MEMBER)
    other = await connect(client, database, settings, user=member, access=AccessLevel.READ_ONLY)
    assert (await client.get("/api/v1/me", headers=_bearer(secret))).status_code == 200
    assert await _mcp_status(client, connected.access_token) == 200
    not_ours = tokens.generate(tokens.TokenKind.API_KEY)
    reported = [secret, connected.access_token, other.refresh_token, not_ours, "ghp_notours"]
    answer = await report(client, settings, payload(*reported, url=LEAK_URL))
    assert answer.status_code == 200, answer.text
    assert answer.json() == [
        {
            "token_hash": hashlib.sha256(token.encode()).hexdigest(),
            "token_type": "keyhouse_api_key",
            "label": "true_positive" if index < 3 else "false_positive",
        }
        for index, token in enumerate(reported)
    ]
    for revealing in (str(tenant.account.id), tenant.account.slug, tenant.account.name, key.name):
        assert revealing not in answer.text
    refused = await client.get("/api/v1/me", headers=_bearer(secret))
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_token"
    assert await _mcp_status(client, connected.access_token) == 401
    assert await _mcp_status(client, other.access_token) == 401  # the whole connection ended
    refreshed = await refresh(client, client_id=other.client_id, token=other.refresh_token)
    assert refreshed.json()["error"] == "invalid_grant"
    async with database.sessions() as session:
        events = (
            await session.scalars(
                select(AuditEvent).where(AuditEvent.account_id == tenant.account.id)
            )
        ).all()
    reasons = [event.details.get("reason") for event in events]
    assert reasons.count(f"revoked: found public at {LEAK_URL}") == 3
    assert {"api_key.revoked", "connection.leaked"} <= {event.action for event in events}
    await sign_in(client, tenant.admin.email, PASSWORD)
    listed = (await client.get("/api/v1/api-keys")).json()
    mine = next(item for item in listed if item["id"] == str(key.id))
    assert mine["revoked_reason"] == f"found public at {LEAK_URL}"
    page = (await client.get("/settings/security", params={"show": "all"})).text
    assert f'Revoked</span><span class="muted reason">: found public at {LEAK_URL}' in page


async def test_a_tampered_body_a_wrong_key_id_or_no_signature_is_401_and_revokes_nothing(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    _, secret = await make_key(database, settings, tenant.account, AccessLevel.READ_ONLY)
    body = payload(secret)
    tampered = body.replace(b"octo", b"evil")
    signature = sign(settings, body)
    before = await _events(database)
    attempts = [
        (tampered, {"Github-Public-Key-Signature": signature}),
        (body, {"Github-Public-Key-Identifier": "0" * 64}),
        (body, {"Github-Public-Key-Signature": sign(settings, body, OLD_KEY_ID)}),
        (body, {"Github-Public-Key-Signature": "not base64!"}),
        (body, {"Github-Public-Key-Signature": ""}),
    ]
    for content, headers in attempts:
        answer = await report(client, settings, content, headers=headers)
        assert answer.status_code == 401, headers
        assert answer.json()["error"] == "invalid_signature"
    unsigned = await client.post(PATH, content=body, headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 401 and unsigned.json()["error"] == "invalid_signature"
    assert (await client.get("/api/v1/me", headers=_bearer(secret))).status_code == 200
    assert await _events(database) == before


async def test_a_report_signed_with_githubs_previous_key_is_accepted(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    _, secret = await make_key(database, settings, tenant.account, AccessLevel.READ_ONLY)
    body = payload(secret)
    headers = {
        "Github-Public-Key-Identifier": OLD_KEY_ID,
        "Github-Public-Key-Signature": sign(settings, body, OLD_KEY_ID),
    }
    answer = await report(client, settings, body, headers=headers)
    assert answer.status_code == 200 and answer.json()[0]["label"] == "true_positive"
    assert (await client.get("/api/v1/me", headers=_bearer(secret))).status_code == 401


async def test_a_replayed_report_gets_the_same_answer_and_changes_nothing(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    _, secret = await make_key(database, settings, tenant.account, AccessLevel.READ_ONLY)
    body = payload(secret, url=LEAK_URL)
    first = await report(client, settings, body)
    events = await _events(database)
    replayed = await report(client, settings, body)
    assert replayed.status_code == 200 and replayed.json() == first.json()
    assert first.json()[0]["label"] == "true_positive"
    assert await _events(database) == events


async def test_an_expired_key_is_ours_but_nothing_is_revoked(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    key, secret = await make_key(
        database, settings, tenant.account, AccessLevel.READ_ONLY, expires_in=timedelta(days=1)
    )
    await sign_in(client, tenant.admin.email, PASSWORD)
    csrf = (await client.get("/")).text.split('name="csrf_token" value="')[1].split('"')[0]
    await client.post(
        f"/api/v1/api-keys/{key.id}/roll",
        json={"expire_old_in_seconds": 0},
        headers={"X-CSRF-Token": csrf},
    )
    answer = await report(client, settings, payload(secret))
    assert answer.json()[0]["label"] == "true_positive"
    listed = (await client.get("/api/v1/api-keys")).json()
    assert next(item for item in listed if item["id"] == str(key.id))["status"] == "expired"


async def test_a_signed_report_that_is_not_a_list_of_tokens_is_422(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    for body in (b"{}", b'[{"type": "x"}]', b"not json"):
        answer = await report(client, settings, body)
        assert answer.status_code == 422, body
        assert answer.json()["error"] == "invalid_input"


async def test_reports_are_rate_limited_per_address(settings: Settings) -> None:
    body = json.dumps([]).encode()
    async with (
        app_with(settings, secret_scanning_reports_per_ip="2/minute") as app,
        new_client(app, address="203.0.113.9") as http,
    ):
        assert (await report(http, settings, body)).status_code == 200
        assert (await http.post(PATH, content=body)).status_code == 401
        limited = await report(http, settings, body)
        assert limited.status_code == 429 and limited.json()["error"] == "rate_limited"
        assert int(limited.headers["retry-after"]) >= 1
