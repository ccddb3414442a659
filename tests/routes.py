"""The route table, walked: which routes are public and which declare what access.

Access is one of: "read" / "write" (an API key), "signed_in" / "admin" (a browser session),
or "public".
"""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from keyhouse.auth.dependencies import (
    require_admin,
    require_read,
    require_signed_in,
    require_write,
)

# Public by signature: GitHub signs its leak reports (tests/leaks/test_github_reports.py).
SIGNED_WRITES = frozenset({("POST", "/api/v1/secret-scanning/github")})
PUBLIC_PATHS = frozenset(
    {"/healthz", "/readyz", "/login", "/invite/{token}"} | {path for _, path in SIGNED_WRITES}
)
# Public forms that change state check the CSRF token themselves (tests/web/test_sessions.py).
PUBLIC_WRITES = frozenset({("POST", "/login"), ("POST", "/invite/{token}")}) | SIGNED_WRITES
# POSTs that only read: a retrieval preview's spec is too large for a query string.
READ_ONLY_POSTS = frozenset({("POST", "/api/v1/retrievals/preview")})
ACCESS_BY_DEPENDENCY = (
    (require_admin, "admin"),
    (require_signed_in, "signed_in"),
    (require_write, "write"),
    (require_read, "read"),
)


@dataclass(frozen=True)
class Endpoint:
    """One method of one API route and the access it declares."""

    method: str
    path: str
    access: str  # "read", "write", "signed_in", "admin" or "public"

    def url(self) -> str:
        """The path with every parameter filled by a random UUID."""
        route_path = self.path
        while "{" in route_path:
            start, end = route_path.index("{"), route_path.index("}")
            route_path = route_path[:start] + str(uuid.uuid4()) + route_path[end + 1 :]
        return route_path


def _calls(dependant: Dependant) -> Iterator[object]:
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from _calls(dependency)


def endpoints(app: FastAPI) -> list[Endpoint]:
    """Every API route and method of the app with its declared access."""
    found = []
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute):
            continue
        calls = set(_calls(route.dependant))
        access = next((name for call, name in ACCESS_BY_DEPENDENCY if call in calls), "public")
        found.extend(Endpoint(method, route.path, access) for method in sorted(route.methods or ()))
    return found
