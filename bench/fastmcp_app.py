"""The FastMCP peer: FastMCP's stateless server with its own bearer-token verification.

FastMCP's `StaticTokenVerifier` (its simplest: the token looked up as it is in a dict, no
hash, so a few µs cheaper than Keyhouse's HMAC), Streamable HTTP, stateless, JSON responses;
one tool, `who_am_i`, answering Keyhouse's fields from the token's claims; uvicorn writes its
own access log. It runs in its own virtualenv, from `fastmcp-requirements.txt`, because
FastMCP pins its own `mcp`: `bench/mcp_peers.py` creates it and starts this app with it.

    BENCH_MCP_TOKEN=… var/bench-fastmcp/bin/python -m uvicorn --app-dir bench \
        fastmcp_app:create_fastmcp_app --factory
"""

import os

from fastmcp import FastMCP
from fastmcp.server.auth.providers.jwt import StaticTokenVerifier
from fastmcp.server.dependencies import get_access_token
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse


class WhoAmI(BaseModel):
    """Keyhouse's `who_am_i` answer, field for field."""

    account_name: str
    account_slug: str
    user_email: str | None
    client: str | None
    credential: str
    access_level: str
    can_change_data: bool


async def who_am_i() -> WhoAmI:
    """Who you are acting for: the account, the user, the assistant, and your access level."""
    access = get_access_token()
    if access is None:
        raise RuntimeError("the bearer middleware let an unauthenticated call through")
    claims = access.claims
    return WhoAmI(**{name: claims[name] for name in WhoAmI.model_fields})


async def healthz(_: Request) -> JSONResponse:
    """What `http_load.serving` polls before loading."""
    return JSONResponse({"status": "ok"})


def create_fastmcp_app() -> Starlette:
    """The FastMCP peer, knowing the one token in BENCH_MCP_TOKEN."""
    claims = {
        "client_id": "bench",
        "scopes": ["read"],
        "account_name": "Bench",
        "account_slug": "bench",
        "user_email": "bench@example.com",
        "client": "bench",
        "credential": "mcp_connection",
        "access_level": "read_only",
        "can_change_data": False,
    }
    verifier = StaticTokenVerifier(
        tokens={os.environ["BENCH_MCP_TOKEN"]: claims}, required_scopes=["read"]
    )
    server = FastMCP("fastmcp-peer", auth=verifier)
    server.tool(who_am_i)
    server.custom_route("/healthz", methods=["GET"])(healthz)
    return server.http_app(path="/mcp", stateless_http=True, json_response=True)
