"""The official MCP SDK's peer: its own stateless server with its own bearer path.

`MCPServer` with a `TokenVerifier` (the bearer token's HMAC looked up in a dict) and
`AuthSettings`, so the SDK mounts its standard `BearerAuthBackend` + `RequireAuthMiddleware`
in front of `/mcp`; Streamable HTTP, stateless, JSON responses; one tool, `who_am_i`,
answering Keyhouse's fields from the token's principal; uvicorn writes its own access log.
No database, no rate limit: what Keyhouse's MCP is measured against in `bench/mcp_peers.py`.

    BENCH_MCP_TOKEN=… uvicorn --app-dir bench mcp_sdk_app:create_sdk_app --factory
"""

import hashlib
import hmac
import os
import secrets
import time
from typing import Any

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse

SECRET = secrets.token_bytes(32)
TOKEN_LIFETIME_SECONDS = 3600


class WhoAmI(BaseModel):
    """Keyhouse's `who_am_i` answer, field for field."""

    account_name: str
    account_slug: str
    user_email: str | None
    client: str | None
    credential: str
    access_level: str
    can_change_data: bool


def _hash(token: str) -> str:
    return hmac.new(SECRET, token.encode(), hashlib.sha256).hexdigest()


class HashedTokens:
    """The SDK's `TokenVerifier` protocol over a dict of HMAC-SHA-256 token hashes."""

    def __init__(self, resource: str, principals: dict[str, dict[str, Any]]) -> None:
        self.resource = resource
        self.principals = principals

    async def verify_token(self, token: str) -> AccessToken | None:
        """The token's access, or None when its hash is unknown."""
        principal = self.principals.get(_hash(token))
        if principal is None:
            return None
        return AccessToken(
            token=token,
            client_id=principal["client"],
            scopes=["read"],
            expires_at=int(time.time()) + TOKEN_LIFETIME_SECONDS,
            resource=self.resource,  # the audience the SDK's middleware checks
            claims=principal,
        )


async def who_am_i() -> WhoAmI:
    """Who you are acting for: the account, the user, the assistant, and your access level."""
    access = get_access_token()
    if access is None or access.claims is None:
        raise RuntimeError("the bearer middleware let an unauthenticated call through")
    return WhoAmI(**access.claims)


async def healthz(_: Request) -> JSONResponse:
    """What `http_load.serving` polls before loading."""
    return JSONResponse({"status": "ok"})


def create_sdk_app() -> Starlette:
    """The SDK peer, knowing the one token in BENCH_MCP_TOKEN."""
    base_url = os.environ["KEYHOUSE_BASE_URL"]  # set by http_load.serving to this port
    principal = {
        "account_name": "Bench",
        "account_slug": "bench",
        "user_email": "bench@example.com",
        "client": "bench",
        "credential": "mcp_connection",
        "access_level": "read_only",
        "can_change_data": False,
    }
    resource = f"{base_url}/mcp"
    server: MCPServer = MCPServer(
        name="sdk-peer",
        token_verifier=HashedTokens(resource, {_hash(os.environ["BENCH_MCP_TOKEN"]): principal}),
        auth=AuthSettings(
            issuer_url=base_url,
            resource_server_url=resource,
            required_scopes=["read"],
            validate_token_resource=True,
        ),
        # At its default INFO the SDK also logs "Terminating session: None" through rich
        # after every stateless request: a console renderer no service runs in production.
        log_level="WARNING",
    )
    server.tool()(who_am_i)
    server.custom_route("/healthz", methods=["GET"])(healthz)
    return server.streamable_http_app(stateless_http=True, json_response=True)
