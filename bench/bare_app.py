"""The floor peer: the least a FastAPI service that checks bearer keys does per request.

A pure-ASGI middleware looks the bearer token's HMAC up in a dict and answers 401 when it is
missing; `/healthz` and `/api/v1/me` answer the same JSON as Keyhouse; uvicorn writes its own
access log line per request. No database, no rate limit, no revocation: what Keyhouse is
measured against in `bench/peers.py`.

    BENCH_BARE_TOKEN=… uvicorn --app-dir bench bare_app:create_bare_app --factory
"""

import hashlib
import hmac
import os
import secrets
from typing import Any

from fastapi import FastAPI, Request
from starlette.types import ASGIApp, Receive, Scope, Send

SECRET = secrets.token_bytes(32)


def _hash(token: str) -> str:
    return hmac.new(SECRET, token.encode(), hashlib.sha256).hexdigest()


class BearerKeys:
    """Pure ASGI: the principal of a known bearer key in `scope["state"]`, else 401."""

    def __init__(self, app: ASGIApp, keys: dict[str, dict[str, Any]]) -> None:
        self.app = app
        self.keys = keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == "/healthz":
            await self.app(scope, receive, send)
            return
        authorization = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        scheme, _, token = authorization.partition(" ")
        principal = self.keys.get(_hash(token)) if scheme.lower() == "bearer" else None
        if principal is None:
            await send({"type": "http.response.start", "status": 401, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)


def create_bare_app() -> FastAPI:
    """The floor app, knowing the one key in BENCH_BARE_TOKEN."""
    principal = {
        "account": {"id": str(secrets.token_hex(16)), "name": "Bench", "slug": "bench"},
        "credential": {"id": str(secrets.token_hex(16)), "name": "wrk", "kind": "api_key"},
        "access_level": "read_only",
        "scopes": ["read"],
    }
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/v1/me")
    async def me(request: Request) -> dict[str, Any]:
        found: dict[str, Any] = request.state.principal
        return found

    app.add_middleware(BearerKeys, keys={_hash(os.environ["BENCH_BARE_TOKEN"]): principal})
    return app
