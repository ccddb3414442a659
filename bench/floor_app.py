"""A bench-only twin of the app: `GET /bench/me-unauthenticated` is /api/v1/me without a check.

It answers the same `Me` body for a fixed principal, so the difference between the two routes
on one server is what authentication costs. Never served outside `bench/floor.py`:

    uvicorn --app-dir bench floor_app:create_floor_app --factory
"""

import uuid

from fastapi import FastAPI

from keyhouse.api_keys.models import AccessLevel
from keyhouse.app import create_app
from keyhouse.auth.endpoints import Me, me, router
from keyhouse.auth.principal import CredentialKind, Principal

FLOOR = "/bench/me-unauthenticated"
PRINCIPAL = Principal(
    account_id=uuid.UUID(int=1),
    account_slug="bench",
    account_name="Bench",
    access=AccessLevel.READ_ONLY,
    credential=CredentialKind.API_KEY,
    credential_id=uuid.UUID(int=2),
    credential_name="wrk",
)


async def me_unauthenticated() -> Me:
    """/api/v1/me's body for the fixed principal, no credential read."""
    return await me(PRINCIPAL)


def create_floor_app() -> FastAPI:
    """The real app plus the unauthenticated twin, matched just before /api/v1/me."""
    app = create_app()
    app.add_api_route(FLOOR, me_unauthenticated, methods=["GET"])
    routes = app.router.routes
    twin = routes.pop()
    # Routing scans in order: next to /api/v1/me's router, both pay the same for the match.
    at = next(i for i, r in enumerate(routes) if getattr(r, "original_router", None) is router)
    routes.insert(at, twin)
    return app
