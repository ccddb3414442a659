"""Text no database can store, and JSON too deep to walk, on every route and in every position.

Every route of the app (REST, pages, OAuth, /mcp) is sent a NUL byte, an unpaired surrogate
and deeply nested JSON in its path, query, headers and body, signed out and with each kind of
credential. Every answer is a 4xx naming the field, none is a 5xx, nothing is written, and
nothing is logged at error level.
"""

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from sqlalchemy import select

from keyhouse.api_keys.models import AccessLevel
from keyhouse.app import create_app
from keyhouse.config import Settings
from keyhouse.db import Database
from keyhouse.kit import tokens
from keyhouse.kit.text import MAX_JSON_DEPTH, UnstorableText
from keyhouse.kit.tokens import TokenKind
from keyhouse.reps.models import Rep
from tests.factories import make_rep, make_tenant
from tests.oauth_flow import connect
from tests.servers import cli
from tests.storage import table_checksums
from tests.web.browsing import new_client, post_login, sign_in

NUL = "a\x00b"
SURROGATE = "a\ud800b"
# Fields that routes outside FastAPI's declarations read (OAuth and sign-in forms, MCP).
FORM_FIELDS = (
    "email",
    "password",
    "name",
    "client_id",
    "redirect_uri",
    "code",
    "code_verifier",
    "refresh_token",
    "token",
    "state",
    "scope",
    "resource",
    "access",
    "role",
)


JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class Target:
    """One method of one route, with the query and body fields it declares."""

    method: str
    path: str
    query: tuple[str, ...] = ()
    body: tuple[str, ...] = field(default=FORM_FIELDS)

    def url(self, path_value: str = "0f2a3c4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b") -> str:
        """The path with every parameter filled in."""
        path = self.path
        while "{" in path:
            start, end = path.index("{"), path.index("}")
            path = path[:start] + path_value + path[end + 1 :]
        return path


def _fields(schema: dict[str, Any], document: dict[str, Any]) -> tuple[str, ...]:
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return tuple(schema.get("properties", {}))


def _declared(document: dict[str, Any], method: str, path: str) -> tuple[tuple[str, ...], ...]:
    """The query parameters and body fields the OpenAPI document declares for a route."""
    operation = document["paths"].get(path, {}).get(method.lower())
    if operation is None:  # pages, OAuth and /mcp: the forms and fields they read
        return ("client_id", "redirect_uri", "state"), FORM_FIELDS
    query = tuple(p["name"] for p in operation.get("parameters", []) if p["in"] == "query")
    content = operation.get("requestBody", {}).get("content", {})
    body = tuple(name for media in content.values() for name in _fields(media["schema"], document))
    return query, body or FORM_FIELDS


def targets(app: FastAPI) -> Iterator[Target]:
    """Every method of every route the app serves."""
    document = app.openapi()
    for route in iter_route_contexts(app.routes):
        if route.path is None or not route.methods:
            continue  # the static files mount
        for method in sorted(route.methods - {"HEAD"}):
            query, body = _declared(document, method, route.path)
            yield Target(method, route.path, (*query, "q"), body)


def _poisoned_requests(target: Target, poison: str) -> Iterator[tuple[str, dict[str, object]]]:
    """(the field the answer must name, the request's arguments) for each position."""
    if "{" in target.path and poison == NUL:  # a URL cannot carry a surrogate at all
        yield "path", {"url": target.url("a%00b")}
    for name in target.query:
        if poison == NUL:
            yield name, {"url": target.url(), "params": {name: poison}}
    if poison == NUL:
        yield "x-request-note", {"url": target.url(), "headers": {"X-Request-Note": poison}}
    if target.method == "GET":
        return
    for name in target.body:
        for document in ({name: poison}, {"items": [{name: poison}]}):
            # Escaped as \\u0000 and \\ud800, as every JSON encoder sends them.
            yield name, {"url": target.url(), "content": json.dumps(document), "headers": JSON}
        if poison == NUL:
            yield name, {"url": target.url(), "data": {name: poison}}


def _deep_json(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


async def _credentials(
    app: FastAPI, client: httpx.AsyncClient, database: Database, settings: Settings
) -> dict[str, dict[str, str]]:
    tenant = await make_tenant(database, settings)
    connected = await connect(
        client, database, settings, user=tenant.admin, access=AccessLevel.FULL_ACCESS
    )
    async with new_client(app) as browser:
        csrf = await sign_in(browser, tenant.admin.email, "correct horse battery")
        cookie = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())
    return {
        "signed_out": {},
        "read_only": tenant.read,
        "full_access": tenant.write,
        "connection": connected.bearer,
        "admin_session": {"Cookie": cookie, "X-CSRF-Token": csrf},
    }


def _names(response: httpx.Response, field_name: str) -> bool:
    return field_name.lower() in response.text.lower()


@pytest.mark.parametrize("poison", [NUL, SURROGATE], ids=["nul", "surrogate"])
async def test_unstorable_text_anywhere_is_a_4xx_naming_the_field_and_writes_nothing(
    app: FastAPI,
    client: httpx.AsyncClient,
    database: Database,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
    poison: str,
) -> None:
    credentials = await _credentials(app, client, database, settings)
    before = await table_checksums(database)
    problems = []
    with caplog.at_level(logging.ERROR):
        for target in targets(app):
            for label, headers in credentials.items():
                for field_name, arguments in _poisoned_requests(target, poison):
                    sent = {**arguments, "headers": {**headers, **arguments.get("headers", {})}}  # type: ignore[dict-item]
                    response = await client.request(target.method, **sent)  # type: ignore[arg-type]
                    if not 400 <= response.status_code < 500 or not _names(response, field_name):
                        problems.append(
                            f"{target.method} {target.path} as {label}, {field_name} in "
                            f"{sorted(arguments)}: {response.status_code} {response.text[:200]}"
                        )
    assert not problems, "\n".join(problems[:40])
    assert await table_checksums(database) == before
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    "body",
    [
        _deep_json(MAX_JSON_DEPTH + 1),
        _deep_json(5_000),
        b"[" * 200_000,
        b'{"name": NaN}',
        b'{"name": "x", "fit_score": Infinity}',
    ],
    ids=["just-too-deep", "deep", "bottomless", "nan", "infinity"],
)
async def test_pathological_json_is_400_on_every_route(
    app: FastAPI,
    client: httpx.AsyncClient,
    database: Database,
    settings: Settings,
    body: bytes,
) -> None:
    credentials = await _credentials(app, client, database, settings)
    before = await table_checksums(database)
    problems = []
    for target in targets(app):
        if target.method == "GET":
            continue
        for label, headers in credentials.items():
            response = await client.request(
                target.method,
                target.url(),
                content=body,
                headers={**headers, "Content-Type": "application/json"},
            )
            if response.status_code != 400:
                problems.append(f"{target.method} {target.path} as {label}: {response.status_code}")
    assert not problems, "\n".join(problems[:40])
    assert await table_checksums(database) == before


async def test_the_deepest_body_the_api_takes_still_works(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    criteria = [{"field": "industry", "op": "in", "value": ["Software", "Retail"]}]
    response = await client.post(
        "/api/v1/target-books",
        json={"name": "Deep enough", "max_capacity": 10, "criteria": criteria},
        headers=tenant.write,
    )
    assert response.status_code == 201, response.text
    assert response.json()["criteria"] == criteria


async def test_the_mcp_endpoint_answers_with_a_json_rpc_error_naming_the_argument(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    call = {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "tools/call",
        "params": {"name": "search_accounts", "arguments": {"name_contains": NUL}},
    }
    response = await client.post(
        "/mcp",
        content=json.dumps(call),
        headers={
            **tenant.read,
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
        },
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == -32602
    assert "params.arguments.name_contains" in error["message"]


async def test_unstorable_input_counts_as_a_failed_attempt_from_its_address(
    database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    limits = {"login_attempts_per_ip": "3/15 minutes", "auth_failures_per_ip": "5/minute"}
    strict = create_app(settings.model_copy(update=limits))
    async with strict.router.lifespan_context(strict):
        async with new_client(strict, address="10.20.30.40") as prober:
            for _ in range(3):
                refused = await post_login(prober, NUL, "x")
                assert refused.status_code == 422
                assert "email" in refused.text
            signing_in = await post_login(prober, tenant.admin.email, "correct horse battery")
            assert signing_in.status_code == 429
            for _ in range(2):
                refused = await prober.get("/api/v1/reps", params={"q": NUL}, headers=tenant.read)
                assert refused.status_code == 422
            unknown = {"Authorization": f"Bearer {tokens.generate(TokenKind.API_KEY)}"}
            throttled = await prober.get("/api/v1/me", headers=unknown)
            assert throttled.status_code == 429
        async with new_client(strict, address="10.20.30.41") as someone_else:
            assert (await someone_else.get("/api/v1/me", headers=tenant.read)).status_code == 200


@pytest.mark.parametrize("text", [NUL, SURROGATE], ids=["nul", "surrogate"])
async def test_the_storage_floor_refuses_unstorable_text_on_both_databases(
    database: Database, settings: Settings, text: str
) -> None:
    tenant = await make_tenant(database, settings)
    before = await table_checksums(database)
    with pytest.raises(UnstorableText, match=r"^name: contains"):
        await make_rep(database, tenant.account, name=text)
    async with database.sessions() as session:
        with pytest.raises(UnstorableText, match=r"^email: contains"):
            await session.execute(select(Rep).where(Rep.email == text))
    assert await table_checksums(database) == before


def test_a_command_line_argument_that_cannot_be_stored_is_a_clear_error(
    settings: Settings,
) -> None:
    # A byte that is not UTF-8 reaches Python as an unpaired surrogate (PEP 383).
    result = cli(
        settings, "account", "create", "Caf\udce9", "--admin-email", "x@example.com", check=False
    )
    assert result.returncode == 1
    assert "name: contains an unpaired surrogate, which cannot be stored." in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("content_type", ["Application/JSON; charset=UTF-8", "application/x+json"])
async def test_any_spelling_of_json_is_checked_at_the_door(
    client: httpx.AsyncClient, database: Database, settings: Settings, content_type: str
) -> None:
    tenant = await make_tenant(database, settings)
    response = await client.post(
        "/api/v1/reps",
        content=json.dumps({"name": "Ana", "email": "ana@example.com", "note": NUL}),
        headers={**tenant.write, "Content-Type": content_type},
    )
    assert response.status_code == 422
    assert response.json()["detail"] == "note: contains a NUL character, which cannot be stored."
