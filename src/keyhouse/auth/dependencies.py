"""Access declared, not coded: routes take `ReadAccess`, `WriteAccess`, `SignedInUser` or
`AdminUser`, and nothing else checks.

A route without one of these parameters is public; `tests/auth/test_routes.py` lists them.
API keys (`ReadAccess`, `WriteAccess`) reach the workspace data; browser sessions
(`SignedInUser`, `AdminUser`) reach the pages and the admin API, which no key may use.
"""

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyCookie, HTTPBearer

from keyhouse.auth.authenticator import Authenticator, insufficient_scope, invalid_request
from keyhouse.auth.principal import Principal, Scope
from keyhouse.errors import Forbidden, Unauthorized
from keyhouse.web import sessions

_session_scheme = APIKeyCookie(
    name=sessions.SESSION_COOKIE,
    auto_error=False,
    description="A signed-in browser session; writes also send the `X-CSRF-Token` header.",
)
QUERY_TOKEN_NAMES = frozenset({"access_token", "api_key", "token", "key"})


class SignInRequired(Unauthorized):
    """No live browser session: pages redirect to /login, the API answers 401."""

    def __init__(self) -> None:
        super().__init__("Sign in to continue.")


class AdminRequired(Forbidden):
    """Signed in, but only account admins may do this."""

    def __init__(self) -> None:
        super().__init__("Only account admins can do this.")


class KeysCannotManageAccess(Forbidden):
    """A key (or an assistant's connection) tried to manage keys, connections or members."""

    def __init__(self) -> None:
        super().__init__(
            "API keys cannot manage keys, connections or members; sign in as an admin instead."
        )


def client_address(request: Request) -> str:
    """The caller's IP address (uvicorn takes it from X-Forwarded-For of a trusted proxy)."""
    return request.client.host if request.client else "unknown"


async def _authenticate(request: Request, scope: Scope) -> Principal:
    if QUERY_TOKEN_NAMES.intersection(request.query_params) or any(
        value.startswith("kh_") for value in request.query_params.values()
    ):
        raise invalid_request("Send credentials in the Authorization header, not the URL.")
    authenticator: Authenticator = request.app.state.authenticator
    principal = await authenticator.authenticate(
        request.headers.get("authorization"), client=client_address(request), scope=request.scope
    )
    if not principal.allows(scope):
        raise insufficient_scope(scope)
    return principal


class BearerAccess(HTTPBearer):
    """Bearer auth declared in the OpenAPI document and enforced by the authenticator.

    The security scheme is itself the dependency, so a request resolves one dependency
    instead of two (a scheme nested in an access check); the header is parsed once, by the
    authenticator, which is stricter (exactly one token, checksum, RFC 6750 errors).
    """

    def __init__(self, scope: Scope) -> None:
        super().__init__(
            scheme_name="HTTPBearer", description="An API key: `kh_key_…`.", auto_error=False
        )
        self.scope = scope

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        """The caller's principal if its credential allows this scope; an RFC 6750 error if not."""
        return await _authenticate(request, self.scope)


require_read = BearerAccess(Scope.READ)  # any valid credential of the account
require_write = BearerAccess(Scope.WRITE)  # a valid credential with full access


async def _signed_in(request: Request) -> Principal:
    found = await sessions.signed_in(request)
    if found is None:
        raise SignInRequired()
    if request.method not in sessions.SAFE_METHODS:
        await sessions.check_csrf(request, await sessions.submitted_csrf(request))
    return found.principal


async def _refuse_keys(request: Request) -> None:
    """Keys never act for a person: a valid one gets 403, a bad one still 401."""
    authorization = request.headers.get("authorization")
    if authorization:
        authenticator: Authenticator = request.app.state.authenticator
        # A bad key is still a 401 (and counts as a failed authentication).
        await authenticator.authenticate(
            authorization, client=client_address(request), scope=request.scope
        )
        raise KeysCannotManageAccess()


async def require_signed_in(
    request: Request, _declared: str | None = Security(_session_scheme)
) -> Principal:
    """Any active user of a live browser session; a write must carry the CSRF token."""
    await _refuse_keys(request)
    return await _signed_in(request)


async def require_admin(
    request: Request, _declared: str | None = Security(_session_scheme)
) -> Principal:
    """A signed-in account admin; a write must carry the CSRF token; keys are always refused."""
    await _refuse_keys(request)
    principal = await _signed_in(request)
    if not principal.is_admin:
        raise AdminRequired()
    return principal


ReadAccess = Annotated[Principal, Depends(require_read)]
WriteAccess = Annotated[Principal, Depends(require_write)]
SignedInUser = Annotated[Principal, Depends(require_signed_in)]
AdminUser = Annotated[Principal, Depends(require_admin)]
