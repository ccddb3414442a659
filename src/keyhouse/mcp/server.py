"""The remote MCP server at /mcp: the official SDK's MCPServer and Streamable HTTP transport.

Around the SDK we keep only what it cannot know: the credential check (our one
authenticator, RFC 6750 challenges carrying `resource_metadata`), the HTTP 403 scope
challenge for a write tool, hiding tools a connection may not call, and recording each
tool call (metrics, and a connection's activity).
"""

import json
import time
from importlib.metadata import version
from typing import Any
from urllib.parse import urlsplit

from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
from mcp.server.transport_security import TransportSecuritySettings
from starlette.datastructures import Headers
from starlette.types import Receive, Scope, Send

from keyhouse.api_keys.usage import UsageRecorder
from keyhouse.auth.authenticator import (
    MCP_CREDENTIALS,
    Authenticator,
    BearerError,
    insufficient_scope,
    invalid_request,
)
from keyhouse.auth.principal import PRINCIPAL_KEY, CredentialKind, Principal
from keyhouse.auth.principal import Scope as AccessScope
from keyhouse.config import Settings
from keyhouse.kit.middleware import read_body, replay_body
from keyhouse.kit.rate_limits import RateLimited
from keyhouse.mcp import tools
from keyhouse.mcp.access import principal_of
from keyhouse.mcp.single_exchange import SingleExchange
from keyhouse.metrics.recorder import Metrics
from keyhouse.oauth.metadata import resource_metadata_url

INSTRUCTIONS = (
    "Keyhouse is a RevOps workspace: reps, the accounts they own, target books and account "
    "distributions. Start with who_am_i to see the account and whether you may change data."
)


class HideForbiddenTools:
    """Server middleware: `tools/list` shows a connection only the tools it may call."""

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: Any) -> Any:
        result = await call_next(ctx)
        if ctx.method != "tools/list" or not isinstance(result, dict):
            return result  # the chain carries results in their wire form
        principal = principal_of(ctx.request)
        if principal is None or principal.allows(AccessScope.WRITE):
            return result
        visible = [
            tool for tool in result.get("tools", []) if tool.get("name") not in tools.WRITE_TOOLS
        ]
        return {**result, "tools": visible}


TOOL_NAMES = frozenset(function.__name__ for function in tools.READ_TOOLS) | tools.WRITE_TOOLS


class RecordToolCalls:
    """Server middleware: every `tools/call` counted by tool and outcome, and for a connection
    kept as activity (tool, outcome, duration). The arguments and the result are never kept."""

    def __init__(self, metrics: Metrics, usage: UsageRecorder) -> None:
        self._metrics = metrics
        self._usage = usage

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: Any) -> Any:
        if ctx.method != "tools/call" or ctx.request is None:
            return await call_next(ctx)
        name = ctx.params.get("name") if ctx.params else None
        tool = name if isinstance(name, str) and name in TOOL_NAMES else "unknown"
        started = time.perf_counter()
        ok = False
        try:
            result = await call_next(ctx)
            ok = not _is_error(result)
            return result
        finally:
            # Inline rather than in helpers: on this path each Python call costs ~1 µs
            # (bench/README.md, "Recording").
            seconds = time.perf_counter() - started
            self._metrics.tool_call(tool, ok, seconds)
            principal: Principal | None = ctx.request.scope.get(PRINCIPAL_KEY)
            if principal is not None and principal.credential is CredentialKind.MCP_CONNECTION:
                self._usage.record_tool_call(
                    principal.account_id, principal.credential_id, tool, ok, seconds
                )


def _is_error(result: Any) -> bool:
    if isinstance(result, dict):
        return result.get("isError") is True
    return getattr(result, "is_error", False) is True


def build_server(metrics: Metrics, usage: UsageRecorder) -> MCPServer:
    """The MCP server with every Keyhouse tool, its calls recorded in `metrics` and `usage`."""
    server: MCPServer = MCPServer(
        name="keyhouse",
        title="Keyhouse",
        version=version("keyhouse"),
        instructions=INSTRUCTIONS,
        middleware=[RecordToolCalls(metrics, usage), HideForbiddenTools()],
    )
    tools.register(server)
    return server


def transport_security(settings: Settings) -> TransportSecuritySettings:
    """Host and Origin checks: the public host, plus loopback for local clients."""
    public = urlsplit(settings.base_url)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[public.netloc, "127.0.0.1:*", "localhost:*", "[::1]:*"],
        allowed_origins=[
            f"{public.scheme}://{public.netloc}",
            "http://127.0.0.1:*",
            "http://localhost:*",
            "http://[::1]:*",
        ],
    )


class McpEndpoint:
    """ASGI app for /mcp: authenticate, challenge, then hand over to the SDK's transport."""

    def __init__(self, settings: Settings, server: MCPServer) -> None:
        # Called for its side effect: it creates `server.session_manager` with these options.
        server.streamable_http_app(
            stateless_http=True, json_response=True, transport_security=transport_security(settings)
        )
        self._transport = StreamableHTTPASGIApp(server.session_manager)
        self._single_exchange = SingleExchange(server, transport_security(settings))
        self._metadata_url = resource_metadata_url(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        authenticator: Authenticator = scope["app"].state.authenticator
        headers = Headers(scope=scope)
        try:
            if b"access_token=" in scope.get("query_string", b""):
                raise invalid_request("Send the token in the Authorization header, not the URL.")
            client = scope.get("client")
            principal = await authenticator.authenticate(
                headers.get("authorization"),
                accept=MCP_CREDENTIALS,
                client=client[0] if client else "unknown",
                scope=scope,
            )
            body = await read_body(receive) if scope["method"] == "POST" else b""
            _challenge_write(principal, body)
        except BearerError as error:
            await self._refuse(send, error)
            return
        except RateLimited as error:
            await _send_json(send, 429, error.code, error.detail, error.headers)
            return
        if not await self._single_exchange.answer(scope, receive, send, body):
            await self._transport(scope, replay_body(body, receive), send)

    async def _refuse(self, send: Send, error: BearerError) -> None:
        challenge = (
            error.headers["WWW-Authenticate"] + f', resource_metadata="{self._metadata_url}"'
        )
        if error.status == 401 and "error=" not in challenge:
            challenge += ', scope="read"'
        headers = {"WWW-Authenticate": challenge}
        await _send_json(send, error.status, error.code, error.detail, headers)


async def _send_json(
    send: Send, status: int, code: str, detail: str, headers: dict[str, str]
) -> None:
    payload = json.dumps({"error": code, "detail": detail}).encode()
    extra = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), *extra],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def _challenge_write(principal: Principal, body: bytes) -> None:
    """403 insufficient_scope for a write tool, when the user's role could grant full access.

    Otherwise the call goes through and the tool answers with an error that says who can
    grant full access: a challenge the user can never satisfy would loop forever.
    """
    if principal.allows(AccessScope.WRITE) or not principal.role_allows_write:
        return
    try:
        message = json.loads(body)
    except ValueError:
        return
    if not isinstance(message, dict) or message.get("method") != "tools/call":
        return
    params = message.get("params")
    if isinstance(params, dict) and params.get("name") in tools.WRITE_TOOLS:
        raise insufficient_scope(AccessScope.WRITE)
