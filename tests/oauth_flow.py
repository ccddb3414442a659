"""OAuth steps for tests: register a client, approve as a user, exchange the code over HTTP."""

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

import httpx

from keyhouse.api_keys.models import AccessLevel
from keyhouse.config import Settings
from keyhouse.db import Database
from keyhouse.oauth import grants
from keyhouse.users.models import User

REDIRECT_URI = "http://127.0.0.1:33418/callback"


def pkce() -> tuple[str, str]:
    """A PKCE verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


async def register(
    client: httpx.AsyncClient,
    *,
    name: str = "Test Assistant",
    auth_method: str = "none",
    redirect_uris: list[str] | None = None,
) -> dict[str, Any]:
    """A client registered through RFC 7591."""
    response = await client.post(
        "/oauth/register",
        json={
            "client_name": name,
            "redirect_uris": redirect_uris or [REDIRECT_URI],
            "token_endpoint_auth_method": auth_method,
        },
    )
    assert response.status_code == 201, response.text
    registered: dict[str, Any] = response.json()
    return registered


async def approve(
    database: Database,
    settings: Settings,
    *,
    user: User,
    client_info: dict[str, Any],
    access: AccessLevel,
    challenge: str,
    state: str = "xyz",
) -> str:
    """What the consent page does when the user approves: the code for the client."""
    pending = grants.PendingAuthorization(
        client_id=client_info["client_id"],
        client_name=client_info["client_name"],
        redirect_uri=REDIRECT_URI,
        redirect_uri_provided_explicitly=True,
        code_challenge=challenge,
        state=state,
        scopes=["read", "write"],
        requested=["read"],
        resource=settings.mcp_url,
    )
    async with database.transaction() as session:
        url = await grants.approve(session, settings, user=user, pending=pending, access=access)
    return str(httpx.URL(url).params["code"])


async def exchange(
    client: httpx.AsyncClient, *, client_id: str, code: str, verifier: str, **extra: str
) -> httpx.Response:
    """POST /oauth/token for an authorization code."""
    return await client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "client_id": client_id,
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": REDIRECT_URI,
            **extra,
        },
    )


async def refresh(client: httpx.AsyncClient, *, client_id: str, token: str) -> httpx.Response:
    """POST /oauth/token for a refresh token."""
    return await client.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "client_id": client_id,
            "refresh_token": token,
        },
    )


@dataclass
class Connected:
    """A connection made through the real token endpoint."""

    client_id: str
    access_token: str
    refresh_token: str

    @property
    def bearer(self) -> dict[str, str]:
        """The Authorization header of the access token."""
        return {"Authorization": f"Bearer {self.access_token}"}


async def connect(
    client: httpx.AsyncClient,
    database: Database,
    settings: Settings,
    *,
    user: User,
    access: AccessLevel,
) -> Connected:
    """Register, approve and exchange: a working connection for `user`."""
    info = await register(client)
    verifier, challenge = pkce()
    code = await approve(
        database, settings, user=user, client_info=info, access=access, challenge=challenge
    )
    response = await exchange(client, client_id=info["client_id"], code=code, verifier=verifier)
    assert response.status_code == 200, response.text
    body = response.json()
    return Connected(info["client_id"], body["access_token"], body["refresh_token"])
