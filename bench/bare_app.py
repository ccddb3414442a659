"""The floor peer: the least a FastAPI service that checks bearer keys does per request.

A pure-ASGI middleware looks the bearer token's HMAC up in a dict and answers 401 when it is
missing; `/healthz` and `/api/v1/me` answer the same JSON as Keyhouse; uvicorn writes its own
access log line per request. No database, no rate limit, no revocation: what Keyhouse is
measured against in `bench/peers.py`.

With BENCH_BARE_PAGE set (by `bench/lists.py`), it also serves `/api/v1/accounts` the least
costly way FastAPI can: the same ten query parameters, the SQL Keyhouse sends for that page,
run with the bare driver (sqlite3 on the event loop, or an asyncpg pool), and the items the
database wrote joined into the page, with its cursor.

    BENCH_BARE_TOKEN=… uvicorn --app-dir bench bare_app:create_bare_app --factory
"""

import base64
import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any

import asyncpg
from fastapi import FastAPI, Query, Request, Response
from starlette.types import ASGIApp, Receive, Scope, Send

# A page's rows from (account id, limit + 1): each row holds one item's JSON.
Reader = Callable[[str, int], Awaitable[list[Any]]]

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
    page = json.loads(os.environ.get("BENCH_BARE_PAGE", "null"))
    app = FastAPI(lifespan=_page_lifespan(page) if page else None)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/v1/me")
    async def me(request: Request) -> dict[str, Any]:
        found: dict[str, Any] = request.state.principal
        return found

    if page:
        app.add_api_route("/api/v1/accounts", _accounts_page(app, page["account_id"]))
    app.add_middleware(BearerKeys, keys={_hash(os.environ["BENCH_BARE_TOKEN"]): principal})
    return app


def _page_lifespan(page: dict[str, Any]) -> Callable[[FastAPI], Any]:
    """Opens the database of BENCH_BARE_PAGE: {"database", "sql", "params", "account_id"}."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database: str = page["database"]
        if database.startswith("sqlite"):
            connection = sqlite3.connect(database.split("///", 1)[1], check_same_thread=False)
            app.state.read = _sqlite_reader(connection, page["sql"], page["params"])
            yield
            connection.close()
            return
        async with asyncpg.create_pool(database, min_size=1, max_size=10) as pool:
            app.state.read = _postgres_reader(pool, page["sql"])
            yield

    return lifespan


def _sqlite_reader(connection: sqlite3.Connection, sql: str, params: list[str]) -> Reader:
    async def read(account_id: str, limit: int) -> list[Any]:
        values = {"account_id": uuid.UUID(account_id).hex, "limit": limit}
        return connection.execute(sql, [values.get(name, 0) for name in params]).fetchall()

    return read


def _postgres_reader(pool: "asyncpg.Pool[Any]", sql: str) -> Reader:
    async def read(account_id: str, limit: int) -> list[Any]:
        return await pool.fetch(sql, uuid.UUID(account_id), limit)

    return read


def _accounts_page(app: FastAPI, account_id: str) -> Callable[..., Awaitable[Response]]:
    """`/api/v1/accounts` with Keyhouse's query parameters; only `limit` is used."""

    async def accounts(
        cursor: Annotated[str | None, Query(max_length=200)] = None,
        updated_since: datetime | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        owner_rep_id: uuid.UUID | None = None,
        in_pool: bool | None = None,
        industry: Annotated[str | None, Query(max_length=100)] = None,
        region: Annotated[str | None, Query(max_length=100)] = None,
        tier: Annotated[int | None, Query(ge=1, le=5)] = None,
        min_fit_score: Annotated[int | None, Query(ge=0, le=100)] = None,
        q: Annotated[str | None, Query(max_length=200)] = None,
    ) -> Response:
        rows = await app.state.read(account_id, limit + 1)
        items = [row[0] for row in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            last = json.loads(items[-1])
            raw = json.dumps([last["updated_at"], last["id"]]).encode()
            next_cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        body = f'{{"data":[{",".join(items)}],"next_cursor":{json.dumps(next_cursor)}}}'
        return Response(body.encode(), media_type="application/json")

    return accounts
