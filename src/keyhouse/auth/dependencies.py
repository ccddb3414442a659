"""Access declared, not coded: routes take `ReadAccess` or `WriteAccess` and nothing else checks.

A route without one of these parameters is public; `tests/auth/test_routes.py` lists them.
"""

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from keyhouse.auth.authenticator import Authenticator, insufficient_scope, invalid_request
from keyhouse.auth.principal import Principal, Scope

# Declares bearer auth in the OpenAPI document; the header itself is parsed by the
# authenticator, which is stricter (exactly one token, checksum, RFC 6750 errors).
_bearer_scheme = HTTPBearer(auto_error=False, description="An API key: `kh_key_…`.")
QUERY_TOKEN_NAMES = frozenset({"access_token", "api_key", "token", "key"})


async def _authenticate(request: Request, scope: Scope) -> Principal:
    if QUERY_TOKEN_NAMES.intersection(request.query_params) or any(
        value.startswith("kh_") for value in request.query_params.values()
    ):
        raise invalid_request("Send credentials in the Authorization header, not the URL.")
    authenticator: Authenticator = request.app.state.authenticator
    principal = await authenticator.authenticate(request.headers.get("authorization"))
    if not principal.allows(scope):
        raise insufficient_scope(scope)
    return principal


async def require_read(
    request: Request, _declared: HTTPAuthorizationCredentials | None = Security(_bearer_scheme)
) -> Principal:
    """Any valid credential of the account."""
    return await _authenticate(request, Scope.READ)


async def require_write(
    request: Request, _declared: HTTPAuthorizationCredentials | None = Security(_bearer_scheme)
) -> Principal:
    """A valid credential with full access."""
    return await _authenticate(request, Scope.WRITE)


ReadAccess = Annotated[Principal, Depends(require_read)]
WriteAccess = Annotated[Principal, Depends(require_write)]
