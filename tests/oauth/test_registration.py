"""Dynamic client registration: the redirect URIs real assistants use, and what is refused."""

import httpx
import pytest
from sqlalchemy import select

from keyhouse.db import Database
from keyhouse.oauth.models import OAuthClient

ASSISTANT_REDIRECTS = [
    "https://claude.ai/api/mcp/auth_callback",
    "https://claude.com/api/mcp/auth_callback",
    "http://localhost:53682/callback",
    "https://chatgpt.com/connector/oauth/abc123",
    "https://chatgpt.com/connector_platform_oauth_redirect",
    "cursor://anysphere.cursor-mcp/oauth/callback",
    "http://127.0.0.1:33418/",
    "http://127.0.0.1:6274/oauth/callback",
    "http://127.0.0.1:6276/oauth/callback",
]


@pytest.mark.parametrize("redirect_uri", ASSISTANT_REDIRECTS)
async def test_each_assistant_redirect_registers(
    client: httpx.AsyncClient, redirect_uri: str
) -> None:
    response = await client.post(
        "/oauth/register",
        json={"redirect_uris": [redirect_uri], "token_endpoint_auth_method": "none"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["redirect_uris"] == [redirect_uri]


async def test_cursor_registers_three_redirects_in_one_request(client: httpx.AsyncClient) -> None:
    uris = [
        "cursor://anysphere.cursor-mcp/oauth/callback",
        "http://127.0.0.1:33418/",
        "http://localhost:33418/callback",
    ]
    response = await client.post(
        "/oauth/register", json={"client_name": "Cursor", "redirect_uris": uris}
    )
    assert response.status_code == 201
    assert response.json()["client_name"] == "Cursor"


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://evil.example/callback",
        "javascript:alert(1)",
        "https://app.example/cb#frag",
        "data:text/html,hi",
        "file:///etc/passwd",
    ],
)
async def test_unsafe_redirects_are_refused(client: httpx.AsyncClient, redirect_uri: str) -> None:
    response = await client.post("/oauth/register", json={"redirect_uris": [redirect_uri]})
    assert response.status_code == 400
    assert response.json()["error"] in {"invalid_redirect_uri", "invalid_client_metadata"}


async def test_a_client_secret_is_shown_once_and_stored_only_as_a_hash(
    client: httpx.AsyncClient, database: Database
) -> None:
    response = await client.post(
        "/oauth/register",
        json={
            "redirect_uris": ["https://app.example/cb"],
            "token_endpoint_auth_method": "client_secret_post",
        },
    )
    body = response.json()
    secret = body["client_secret"]
    async with database.sessions() as session:
        row = (
            await session.scalars(
                select(OAuthClient).where(OAuthClient.client_id == body["client_id"])
            )
        ).one()
    assert row.client_secret_hash and secret not in row.client_secret_hash
    assert secret not in str(row.client_metadata)
    wrong = await client.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "client_id": body["client_id"],
            "client_secret": "nope",
            "refresh_token": "kh_rt_x",
        },
    )
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    right = await client.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "client_id": body["client_id"],
            "client_secret": secret,
            "refresh_token": "kh_rt_x",
        },
    )
    assert right.status_code == 400 and right.json()["error"] == "invalid_grant"
