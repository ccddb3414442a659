"""The authorization server's routes: discovery, and the SDK's handlers under /oauth.

The SDK's register/authorize/token handlers do the protocol work; around them we add
CORS where browsers call, `iss` on every redirect to the client (RFC 9207), and the RFC 8707
check that a token request names only our MCP resource.
"""

from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from mcp.server.auth.handlers.authorize import AuthorizationHandler
from mcp.server.auth.handlers.register import RegistrationHandler
from mcp.server.auth.handlers.token import TokenHandler
from mcp.server.auth.middleware.client_auth import AuthenticationError, ClientAuthenticator
from mcp.server.auth.settings import ClientRegistrationOptions
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, request_response
from starlette.types import ASGIApp

from keyhouse.config import Settings
from keyhouse.kit.rate_limits import RateLimited, RateLimits
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


def _revocation(provider: KeyhouseProvider, clients: ClientAuthenticator) -> Handler:
    """RFC 7009 revocation, only of the calling client's own tokens.

    Hand-written: the SDK's handler requires a `client_secret` field even from public
    clients (those registered with `none`), so it refuses nearly every assistant.
    """

    async def handle(request: Request) -> Response:
        try:
            client = await clients.authenticate_request(request)
        except AuthenticationError as error:
            body = {"error": "invalid_client", "error_description": error.message}
            return JSONResponse(body, status_code=401, headers=NO_STORE)
        token = (await request.form()).get("token")
        if not isinstance(token, str) or not token:
            body = {"error": "invalid_request", "error_description": "token is required"}
            return JSONResponse(body, status_code=400, headers=NO_STORE)
        found = await provider.load_access_token(token) or await provider.load_refresh_token(
            client, token
        )
        if found is not None and found.client_id == client.client_id:
            await provider.revoke_token(found)
        return Response(status_code=200, headers=NO_STORE)

    return handle


def _registration_limited(handler: Handler, limits: RateLimits) -> Handler:
    """Dynamic registration is open to anyone: cap how fast one address may register."""

    async def handle(request: Request) -> Response:
        address = request.client.host if request.client else "unknown"
        try:
            await limits.oauth_registration(client=address)
        except RateLimited as error:
            body = {"error": error.code, "detail": error.detail, "error_description": error.detail}
            return JSONResponse(body, status_code=429, headers={**NO_STORE, **error.headers})
        return await handler(request)

    return handle


def routes(settings: Settings, provider: KeyhouseProvider, limits: RateLimits) -> list[BaseRoute]:
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
            _cors(request_response(_registration_limited(registration.handle, limits))),
            methods=["POST", "OPTIONS"],
        ),
        Route("/oauth/authorize", authorize, methods=["GET", "POST"]),
        Route("/oauth/token", _cors(request_response(token)), methods=["POST", "OPTIONS"]),
        Route(
            "/oauth/revoke",
            _cors(request_response(_revocation(provider, clients))),
            methods=["POST", "OPTIONS"],
        ),
    ]
