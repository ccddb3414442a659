"""Stateless requests of the handshake era, answered in the request's own task.

The SDK's stateless transport serves every POST as a whole session: a transport, memory
streams, a JSON-RPC dispatcher and a server loop started in the session manager's task
group, all torn down again (the profile in bench/README.md). For the shape nearly every
call has, one JSON-RPC request other than `initialize` from a client that accepts JSON, the
SDK's own single-exchange driver `serve_one`, which serves 2026-07-28 requests, gives the
same answer from the same server: its tool registry, middleware and protocol types.
Everything else (`initialize`, notifications, batches, a malformed or refused request) is
left to the SDK's transport, so every error keeps the SDK's own shape.
"""

import json
from typing import Any

import pydantic_core
from mcp.server._streamable_http_modern import (
    _SingleExchangeDispatchContext,  # the SDK's dispatch context for one HTTP exchange
    _to_jsonrpc_response,
)
from mcp.server.connection import Connection
from mcp.server.mcpserver import MCPServer
from mcp.server.runner import serve_one
from mcp.server.streamable_http import check_accept_headers
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from mcp.shared.inbound import MCP_PROTOCOL_VERSION_HEADER
from mcp.shared.message import ServerMessageMetadata
from mcp.shared.transport_context import TransportContext
from mcp_types import DEFAULT_NEGOTIATED_VERSION, JSONRPCRequest, jsonrpc_message_adapter
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send


class SingleExchange:
    """Answers a plain handshake-era request through `serve_one`, or declines it."""

    def __init__(self, server: MCPServer, security: TransportSecuritySettings) -> None:
        self._manager = server.session_manager
        self._security = TransportSecurityMiddleware(security)

    async def answer(self, scope: Scope, receive: Receive, send: Send, body: bytes) -> bool:
        """Answer the request and return True, or return False to leave it to the SDK."""
        request = Request(scope, receive)
        version = request.headers.get(MCP_PROTOCOL_VERSION_HEADER, DEFAULT_NEGOTIATED_VERSION)
        message = _plain_request(body)
        if (
            message is None
            or version not in HANDSHAKE_PROTOCOL_VERSIONS
            or await self._security.validate_request(request, is_post=True) is not None
            or not check_accept_headers(request)[0]
        ):
            return False
        dispatch = _SingleExchangeDispatchContext(
            transport=TransportContext(
                kind="streamable-http", can_send_request=False, headers=request.headers
            ),
            request_id=message.id,
            message_metadata=ServerMessageMetadata(request_context=request),
        )
        answered = serve_one(
            self._manager.app,
            dispatch,
            message.method,
            message.params,
            connection=Connection.from_envelope(version, None, None),
            lifespan_state=self._manager._lifespan_state,  # the lifespan the manager runs
        )
        reply = await _to_jsonrpc_response(message.id, answered)
        # As the handshake-era transport answers in JSON mode: 200, errors in the body.
        payload: dict[str, Any] = reply.model_dump(mode="json", by_alias=True, exclude_none=True)
        content = json.dumps(payload, separators=(",", ":"))
        await Response(content, media_type="application/json")(scope, receive, send)
        return True


def _plain_request(body: bytes) -> JSONRPCRequest | None:
    """The body's one JSON-RPC request, unless it is `initialize` or anything else."""
    try:
        message = jsonrpc_message_adapter.validate_python(
            pydantic_core.from_json(body), by_name=False
        )
    except (ValueError, ValidationError):
        return None
    if not isinstance(message, JSONRPCRequest) or message.method == "initialize":
        return None
    return message
