"""The authorization server's routes: discovery, and the SDK's handlers under /oauth.

The SDK's register/authorize/token/revoke handlers do the protocol work; around them we add
CORS where browsers call, `iss` on every redirect to the client (RFC 9207), and the RFC 8707
check that a token request names only our MCP resource.
"""

from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from mcp.server.auth.handlers.authorize import AuthorizationHandler
from mcp.server.auth.handlers.register import RegistrationHandler
from mcp.server.auth.handlers.revoke import RevocationHandler
from mcp.server.auth.handlers.token import TokenHandler
from mcp.server.auth.settings import ClientRegistrationOptions
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, request_response
from starlette.types import ASGIApp

from keyhouse.config import Settings
from keyhouse.oauth import metadata
from keyhouse.oauth.client_auth import HashedSecretClientAuthenticator
from keyhouse.oauth.provider import CONSENT_PATH, KeyhouseProvider

Handler = Callable[[Request], Awaitable[Response]]
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _cors(app: ASGIApp) -> ASGIApp:
    return CORSMiddleware(
        app,
        allow_origins=["*"],
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "MCP-Protocol-Version"],
    )


def _document(build: Callable[[Settings], dict[str, object]], settings: Settings) -> ASGIApp:
    async def serve(_request: Request) -> Response:
        return JSONResponse(build(settings), headers={"Cache-Control": "public, max-age=300"})

    return _cors(request_response(serve))


def _with_issuer(handler: Handler, settings: Settings) -> Handler:
    """Add `iss` to every redirect that goes back to the client (errors included)."""
    consent = f"{settings.base_url}{CONSENT_PATH}"

    async def handle(request: Request) -> Response:
        response = await handler(request)
        location = response.headers.get("location")
        if location and not location.startswith(consent):
            parts = urlsplit(location)
            query = urlencode([*parse_qsl(parts.query), ("iss", settings.base_url)])
            response.headers["location"] = urlunsplit(parts._replace(query=query))
        return response

    return handle


def _only_our_resource(handler: Handler, settings: Settings) -> Handler:
    """RFC 8707: a token request may name only the MCP URL as its resource."""

    async def handle(request: Request) -> Response:
        resource = (await request.form()).get("resource")
        if isinstance(resource, str) and resource.rstrip("/") != settings.mcp_url:
            body = {
                "error": "invalid_target",
                "error_description": f"This server issues tokens only for {settings.mcp_url}.",
            }
            return JSONResponse(body, status_code=400, headers=NO_STORE)
        return await handler(request)

    return handle


def routes(settings: Settings, provider: KeyhouseProvider) -> list[BaseRoute]:
    """Every route of the authorization server and of resource discovery."""
    clients = HashedSecretClientAuthenticator(provider, settings.secret)
    registration = RegistrationHandler(
        provider,
        options=ClientRegistrationOptions(
            enabled=True, valid_scopes=metadata.SCOPES, default_scopes=metadata.SCOPES
        ),
    )
    token = _only_our_resource(TokenHandler(provider, clients).handle, settings)
    authorize = _with_issuer(AuthorizationHandler(provider).handle, settings)
    prm = _document(metadata.protected_resource, settings)
    return [
        Route(
            "/.well-known/oauth-authorization-server",
            _document(metadata.authorization_server, settings),
            methods=["GET", "OPTIONS"],
        ),
        Route("/.well-known/oauth-protected-resource", prm, methods=["GET", "OPTIONS"]),
        Route("/.well-known/oauth-protected-resource/mcp", prm, methods=["GET", "OPTIONS"]),
        Route(
            "/oauth/register",
            _cors(request_response(registration.handle)),
            methods=["POST", "OPTIONS"],
        ),
        Route("/oauth/authorize", request_response(authorize), methods=["GET", "POST"]),
        Route("/oauth/token", _cors(request_response(token)), methods=["POST", "OPTIONS"]),
        Route(
            "/oauth/revoke",
            _cors(request_response(RevocationHandler(provider, clients).handle)),
            methods=["POST", "OPTIONS"],
        ),
    ]
