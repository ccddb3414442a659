"""No secret leaks: not into a real server's logs, the database, an error body or the audit log.

Also: every page carries the security headers, and an https origin adds HSTS.
"""

import json
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from keyhouse.api_keys.models import AccessLevel
from keyhouse.app import create_app
from keyhouse.config import Settings
from keyhouse.db import Database
from keyhouse.users.models import User
from keyhouse.web import sessions
from tests.factories import make_tenant
from tests.oauth_flow import REDIRECT_URI, approve, exchange, pkce, refresh
from tests.servers import running_server
from tests.storage import database_contains
from tests.web.browsing import csrf_of

PASSWORD = "correct horse battery"
WRONG_PASSWORD = "wrong-horse-battery-staple-9f3"


class Recorder:
    """An HTTP client that keeps every error body it received."""

    def __init__(self, http: httpx.AsyncClient, email: str) -> None:
        self.http = http
        self.email = email
        self.error_bodies: list[str] = []

    async def send(self, method: str, url: str, **kwargs: object) -> httpx.Response:
        """Send, and keep the body of any 4xx/5xx."""
        response = await self.http.request(method, url, **kwargs)  # type: ignore[arg-type]
        if response.status_code >= 400:
            self.error_bodies.append(response.text)
        return response


async def _key_lifecycle(web: Recorder, secrets: list[str]) -> None:
    """Sign in (once wrongly), create, use, misuse and revoke an API key."""
    csrf_token = csrf_of((await web.send("GET", "/login")).text)
    form = {"email": web.email, "password": WRONG_PASSWORD, "csrf_token": csrf_token}
    assert (await web.send("POST", "/login", data=form)).status_code == 400
    signed_in = await web.send("POST", "/login", data={**form, "password": PASSWORD})
    assert signed_in.status_code == 303
    secrets.append(web.http.cookies[sessions.SESSION_COOKIE])
    csrf = {"X-CSRF-Token": csrf_of((await web.send("GET", "/")).text)}
    body = {"name": "Hygiene", "access_level": "read_only"}
    created = (await web.send("POST", "/api/v1/api-keys", json=body, headers=csrf)).json()
    secret = created["secret"]
    secrets.append(secret)
    bearer = {"Authorization": f"Bearer {secret}"}
    assert (await web.send("GET", "/api/v1/me", headers=bearer)).status_code == 200
    await web.send("GET", "/api/v1/me", params={"access_token": secret})
    await web.send("GET", "/api/v1/me", headers={"Authorization": f"Bearer {secret}x"})
    await web.send("POST", "/api/v1/reps", headers=bearer, json={"name": "x", "email": "x@y.z"})
    await web.send("POST", f"/api/v1/api-keys/{created['id']}/revoke", headers=csrf)
    assert (await web.send("GET", "/api/v1/me", headers=bearer)).status_code == 401


async def _connection_lifecycle(
    web: Recorder, database: Database, settings: Settings, secrets: list[str], user: User
) -> None:
    """Register a confidential client, exchange a code, use, refresh and revoke its tokens."""
    registration = {
        "client_name": "Hygiene assistant",
        "redirect_uris": [REDIRECT_URI],
        "token_endpoint_auth_method": "client_secret_post",
    }
    info = (await web.send("POST", "/oauth/register", json=registration)).json()
    secrets.append(info["client_secret"])
    verifier, challenge = pkce()
    code = await approve(
        database,
        settings,
        user=user,
        client_info=info,
        access=AccessLevel.READ_ONLY,
        challenge=challenge,
    )
    secrets += [code, verifier]
    tokens = await exchange(
        web.http,
        client_id=info["client_id"],
        code=code,
        verifier=verifier,
        client_secret=info["client_secret"],
    )
    assert tokens.status_code == 200, tokens.text
    pair = tokens.json()
    secrets += [pair["access_token"], pair["refresh_token"]]
    replayed = await exchange(web.http, client_id=info["client_id"], code=code, verifier=verifier)
    web.error_bodies.append(replayed.text)
    bearer = {"Authorization": f"Bearer {pair['access_token']}"}
    await web.send("POST", "/mcp", json={}, headers=bearer)
    renewed = await refresh(web.http, client_id=info["client_id"], token=pair["refresh_token"])
    if renewed.status_code == 200:
        secrets += [renewed.json()["access_token"], renewed.json()["refresh_token"]]
    client = {"client_id": info["client_id"], "client_secret": info["client_secret"]}
    await web.send("POST", "/oauth/revoke", data={**client, "token": pair["refresh_token"]})
    reuse = {**client, "grant_type": "refresh_token", "refresh_token": pair["refresh_token"]}
    await web.send("POST", "/oauth/token", data=reuse)


async def test_no_secret_reaches_logs_database_error_bodies_or_audit_log(
    database: Database, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEYHOUSE_LOG_LEVEL", "debug")
    tenant = await make_tenant(database, settings)
    secrets = [PASSWORD, WRONG_PASSWORD, tenant.read_key, tenant.write_key]
    log_path = tmp_path / "server.log"
    with running_server(settings, log_path) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            web = Recorder(http, tenant.admin.email)
            await _key_lifecycle(web, secrets)
            served = settings.model_copy(update={"base_url": url})
            await _connection_lifecycle(web, database, served, secrets, tenant.admin)
    lines = log_path.read_text().splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert any(record.get("event") == "request" for record in records)
    for secret in secrets:
        needle = secret if len(secret) < 40 else secret[8:40]
        assert not [line for line in lines if needle in line], f"a log line has {secret[:10]}…"
        assert not [body for body in web.error_bodies if needle in body]
        assert await database_contains(database, needle) == [], secret[:10]
    assert not [line for line in lines if "bearer " in line.lower()]
    assert not [line for line in lines if sessions.SESSION_COOKIE in line]


async def _page(app: FastAPI, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        return await http.get(path)


@pytest.mark.parametrize("path", ["/login", "/settings/security", "/api/v1/me"])
async def test_every_response_carries_the_security_headers(app: FastAPI, path: str) -> None:
    response = await _page(app, path)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "same-origin"
    assert "strict-transport-security" not in response.headers  # http origin
    if path == "/login":
        policy = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy
        assert "object-src 'none'" in policy


async def test_an_https_origin_adds_hsts(settings: Settings) -> None:
    secure = create_app(settings.model_copy(update={"base_url": "https://keyhouse.example"}))
    response = await _page(secure, "/login")
    assert response.headers["strict-transport-security"].startswith("max-age=")
    assert "includeSubDomains" in response.headers["strict-transport-security"]
