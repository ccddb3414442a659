"""An assistant as real ones run: the official MCP client with OAuth and in-memory storage."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol

import httpx2
from mcp.client.auth import OAuthClientProvider
from mcp.client.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthToken,
)
from pydantic import AnyUrl

REDIRECT_URI = "http://127.0.0.1:33418/callback"


class Person(Protocol):
    """Whoever completes the authorization: signs in, consents, and hands back the code."""

    async def redirect_handler(self, authorization_url: str) -> None: ...

    async def callback_handler(self) -> AuthorizationCodeResult: ...


class MemoryStorage:
    """The assistant's token and registration storage."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


@asynccontextmanager
async def assistant(
    base_url: str,
    user: Person,
    statuses: list[int],
    *,
    client_name: str = "SDK Assistant",
    storage: "MemoryStorage | None" = None,
) -> AsyncIterator[Client]:
    """The official MCP client with OAuth, as an assistant runs it (statuses: every response's)."""
    oauth = OAuthClientProvider(
        server_url=f"{base_url}/mcp",
        client_metadata=OAuthClientMetadata(
            client_name=client_name,
            redirect_uris=[AnyUrl(REDIRECT_URI)],
            grant_types=["authorization_code", "refresh_token"],
            token_endpoint_auth_method="none",
        ),
        storage=storage or MemoryStorage(),
        redirect_handler=user.redirect_handler,
        callback_handler=user.callback_handler,
    )

    async def record(response: httpx2.Response) -> None:
        statuses.append(response.status_code)

    async with (
        httpx2.AsyncClient(auth=oauth, timeout=30, event_hooks={"response": [record]}) as http,
        Client(streamable_http_client(f"{base_url}/mcp", http_client=http)) as client,
    ):
        yield client
