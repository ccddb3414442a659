"""Pure ASGI middleware: the request guard, access log, security headers (cheap per request)."""

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from keyhouse.api_keys.usage import UsageRecorder
from keyhouse.auth.principal import PRINCIPAL_KEY, Principal
from keyhouse.errors import KeyhouseError, PayloadTooLarge
from keyhouse.kit.rate_limits import RateLimited
from keyhouse.kit.text import UnstorableText, check_json_body, require_storable
from keyhouse.logs import access_lines
from keyhouse.metrics.recorder import Metrics
from keyhouse.web.error_pages import error_page, wants_page


class RequestGuard:
    """Refuse what no handler should see, before any handler runs.

    - A body over `max_bytes` (paths in `larger_on`, the CSV uploads, get their own limit): 413.
    - Text a database cannot store (kit/text.py) in the path, the query, a header or a JSON
      or form body, and JSON nested too deeply or holding NaN: 4xx naming the field. Such a
      request counts as a failed attempt from its address, like a wrong key or password.

    JSON and form bodies are read whole here (they are small) and replayed to the app; other
    bodies, such as CSV uploads, stream through with their size counted.
    """

    def __init__(
        self, app: ASGIApp, max_bytes: int, larger_on: dict[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger_on = larger_on or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger_on.get(scope["path"], self.max_bytes)
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _send_too_large(send, limit)
            return
        body_check = _body_check(headers.get(b"content-type", b""))
        body = b""
        try:
            _check_url_and_headers(scope)
            if body_check is not None:
                body = await read_body(receive, limit)
                body_check(body)
        except PayloadTooLarge:
            await _send_too_large(send, limit)
            return
        except KeyhouseError as error:
            await refuse_input(scope, receive, send, error)
            return
        if body_check is not None:
            await self.app(scope, replay_body(body, receive), send)
        else:
            await self.app(scope, _counted(receive, limit), send)


def _check_url_and_headers(scope: Scope) -> None:
    require_storable(scope["path"], "path")
    query: bytes = scope["query_string"]
    if b"%00" in query or b"\x00" in query:
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            require_storable(name, "a query parameter name")
            require_storable(value, name)
    for name, value in scope["headers"]:
        if b"\x00" in value:
            raise UnstorableText(f"the {name.decode('latin-1')} header", "a NUL character")


def _check_form_body(body: bytes) -> None:
    if b"%00" in body or b"\x00" in body:
        for name, value in parse_qsl(body.decode("latin-1"), keep_blank_values=True):
            require_storable(name, "a form field name")
            require_storable(value, name)


def _check_multipart_body(body: bytes) -> None:
    # No route takes a file, so a NUL in a multipart form is always in a text field.
    if b"\x00" in body:
        raise UnstorableText("a form field", "a NUL character")


_BODY_CHECKS: dict[bytes, Callable[[bytes], None]] = {
    b"application/json": check_json_body,
    b"application/x-www-form-urlencoded": _check_form_body,
    b"multipart/form-data": _check_multipart_body,
}


def _body_check(content_type: bytes) -> Callable[[bytes], None] | None:
    """The check for a body of this type; media types are case-insensitive, `+json` is JSON."""
    media_type = content_type.split(b";")[0].strip().lower()
    if media_type.endswith(b"+json"):
        return check_json_body
    return _BODY_CHECKS.get(media_type)


# Addresses that send bad input to these count it against their sign-in budget too.
SIGN_IN_PATHS = ("/login", "/invite/")


async def refuse_input(scope: Scope, receive: Receive, send: Send, error: KeyhouseError) -> None:
    """Answer a request refused for its input in the shape its client reads."""
    request = Request(scope, receive)
    client = request.client.host if request.client else "unknown"
    path: str = scope["path"]
    try:
        await scope["app"].state.rate_limits.refused_input(
            client=client, signing_in=path.startswith(SIGN_IN_PATHS)
        )
    except RateLimited as limited:
        error = limited
    response: Response
    if wants_page(request):
        response = await error_page(request, error.status, error.detail)
    elif path == "/mcp":  # JSON-RPC's shape: the request's parameters are invalid
        body = {"jsonrpc": "2.0", "id": None, "error": {"code": -32602, "message": error.detail}}
        response = JSONResponse(body, status_code=min(error.status, 400), headers=error.headers)
    elif path.startswith("/oauth/"):  # RFC 6749 §5.2 shape
        body = {"error": "invalid_request", "error_description": error.detail}
        response = JSONResponse(body, status_code=min(error.status, 400), headers=error.headers)
    else:
        body = {"error": error.code, "detail": error.detail}
        response = JSONResponse(body, status_code=error.status, headers=error.headers)
    await response(scope, receive, send)


async def read_body(receive: Receive, limit: int | None = None) -> bytes:
    """The whole request body; PayloadTooLarge past `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = bytes(message.get("body", b""))
        size += len(chunk)
        if limit is not None and size > limit:
            raise PayloadTooLarge(f"The body is larger than {limit} bytes.")
        chunks.append(chunk)
        if message["type"] != "http.request" or not message.get("more_body", False):
            return b"".join(chunks)


def replay_body(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app `body` (already read), then the client's next events."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _counted(receive: Receive, limit: int) -> Receive:
    received = 0

    async def counted_receive() -> Message:
        nonlocal received
        message = await receive()
        received += len(message.get("body", b""))
        if received > limit:
            raise PayloadTooLarge(f"The body is larger than {limit} bytes.")
        return message

    return counted_receive


async def _send_too_large(send: Send, max_bytes: int) -> None:
    body = (
        b'{"error":"payload_too_large","detail":"The body is larger than '
        + str(max_bytes).encode()
        + b' bytes."}'
    )
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
        }
    )
    await send({"type": "http.response.body", "body": body})


class AccessLog:
    """After each request: one JSON line (method, path — never the query string or headers —
    status), its metrics, and its count for the key or connection that made it.

    The one place that sees every request's status, so usage counting and metrics cost a few
    dict operations here rather than a second middleware stack.
    """

    def __init__(
        self, app: ASGIApp, *, metrics: Metrics | None = None, usage: UsageRecorder | None = None
    ) -> None:
        self.app = app
        self.metrics = metrics or Metrics()
        self.usage = usage

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: dict[str, Any] = {"code": 500}

        async def recorded_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recorded_send)
        finally:
            seconds, code = time.perf_counter() - started, status["code"]
            access_lines.write(scope["method"], scope["path"], code, round(seconds * 1000, 2))
            self.metrics.request(scope, code, seconds)
            # Inline rather than a helper: on this path each Python call costs ~1 µs
            # (bench/README.md, "Recording").
            principal: Principal | None = scope.get(PRINCIPAL_KEY)
            if self.usage is not None and principal is not None and principal.key_id is not None:
                source = (scope.get("client"), scope["headers"])
                self.usage.count_request(principal.account_id, principal.key_id, code, source)


HSTS = "max-age=63072000; includeSubDomains"
PAGE_CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)


class SecurityHeaders:
    """Headers every response carries; the strict CSP goes on our HTML pages.

    The API docs page (Swagger UI) loads its script from a CDN, so `/api/` keeps no CSP.
    On an https origin every response also tells browsers to never use plain http again.
    """

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_api = scope["path"].startswith("/api/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "same-origin")
                if self.hsts:
                    headers.setdefault("Strict-Transport-Security", HSTS)
                if not is_api and headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("Content-Security-Policy", PAGE_CSP)
            await send(message)

        await self.app(scope, receive, send_with_headers)
