"""Access declared, not coded: routes take `ReadAccess` or `WriteAccess` and nothing else checks.

A route without one of these parameters is public; `tests/auth/test_routes.py` lists them.
"""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPBearer

from keyhouse.auth.authenticator import Authenticator, insufficient_scope, invalid_request
from keyhouse.auth.principal import Principal, Scope

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

ReadAccess = Annotated[Principal, Depends(require_read)]
WriteAccess = Annotated[Principal, Depends(require_write)]
