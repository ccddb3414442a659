"""create_app(settings): the one ASGI app — REST API, pages, health, and (later) MCP and OAuth."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from asyncpg import exceptions as asyncpg_errors
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException
from starlette.routing import Route

from keyhouse import logs
from keyhouse.activity import endpoints as activity
from keyhouse.api_keys import endpoints as api_keys
from keyhouse.api_keys.usage import UsageRecorder
from keyhouse.audit import endpoints as audit_events
from keyhouse.auth import endpoints as me
from keyhouse.auth.authenticator import Authenticator
from keyhouse.auth.credential_cache import CredentialCache
from keyhouse.auth.revocation import RevocationFeed
from keyhouse.config import Settings
from keyhouse.connections import endpoints as connections
from keyhouse.coverage import endpoints as coverage
from keyhouse.crm_accounts import endpoints as crm_accounts
from keyhouse.csv_files import endpoints as csv_files
from keyhouse.db import Database
from keyhouse.distributions import endpoints as distributions
from keyhouse.errors import ERROR_RESPONSES, KeyhouseError
from keyhouse.kit.middleware import AccessLog, RequestGuard, SecurityHeaders
from keyhouse.kit.rate_limits import RateLimits
from keyhouse.leaks import endpoints as secret_scanning
from keyhouse.mcp.server import McpEndpoint, build_server
from keyhouse.metrics.endpoint import MetricsEndpoint
from keyhouse.metrics.recorder import Metrics
from keyhouse.oauth import consent
from keyhouse.oauth import endpoints as oauth
from keyhouse.oauth.client_metadata import ClientMetadataDocuments
from keyhouse.oauth.provider import KeyhouseProvider
from keyhouse.reps import endpoints as reps
from keyhouse.retrievals import endpoints as retrievals
from keyhouse.target_books import endpoints as target_books
from keyhouse.usage import endpoints as key_usage
from keyhouse.users import endpoints as members
from keyhouse.web.error_pages import error_page, wants_page
from keyhouse.web.router import mount_pages

HTTP_ERROR_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}
# What asyncpg raises (wrapped by SQLAlchemy as a plain DBAPIError, or raw from its own
# connections) when PostgreSQL is down, restarting, shutting down or out of connections.
UNREACHABLE_POSTGRES = (
    asyncpg_errors.PostgresConnectionError,  # connection lost or refused by the server
    asyncpg_errors.OperatorInterventionError,  # admin shutdown, crash, starting up (class 57)
    asyncpg_errors.InsufficientResourcesError,  # too many connections (class 53)
    asyncpg_errors.InterfaceError,  # the client-side connection is closed
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The Keyhouse ASGI app for `settings` (read from the environment by default)."""
    settings = settings or Settings()
    logs.configure(settings.log_level, settings.log_format)
    app = FastAPI(
        title="Keyhouse API",
        version="1",
        description="The workspace's REST API. Authenticate with `Authorization: Bearer <key>`.",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=_lifespan,
    )
    database = Database(settings)
    app.state.credential_cache = cache = CredentialCache()
    app.state.settings = settings
    app.state.database = database
    app.state.metrics = metrics = Metrics(settings, database.engine, cache)
    app.state.revocations = RevocationFeed(settings, database, cache, metrics)
    app.state.usage = UsageRecorder(
        database,
        settings.last_used_flush_seconds,
        activity_retention_days=settings.activity_retention_days,
    )
    app.state.rate_limits = RateLimits(settings, metrics)
    app.state.authenticator = Authenticator(
        settings.secret,
        database,
        cache,
        app.state.revocations,
        metrics,
        rate_limits=app.state.rate_limits,
        mcp_resource=settings.mcp_url,
        session_idle=timedelta(hours=settings.session_idle_hours),
    )
    app.state.mcp = build_server(metrics, app.state.usage)
    _add_error_handlers(app)
    # First: routing tries routes in order, and probes must stay cheap for load balancers.
    _add_health(app)
    # Next, before ~100 API routes that a tool call would otherwise be matched against (a
    # third of its CPU). POST only: a stateless server has no stream for GET to open and no
    # session to DELETE, so both are 405 (as Streamable HTTP allows), not a stream held idle.
    app.router.routes.append(Route("/mcp", McpEndpoint(settings, app.state.mcp), methods=["POST"]))
    # csv_files first: its /accounts/export.csv must not be taken for /accounts/{account_id}.
    routers = (
        me,
        reps,
        csv_files,
        crm_accounts,
        target_books,
        distributions,
        retrievals,
        coverage,
        api_keys,
        members,
        audit_events,
        connections,
        secret_scanning,
        key_usage,
        activity,
    )
    for module in routers:
        app.include_router(module.router, responses=ERROR_RESPONSES)
    mount_pages(app)
    app.include_router(consent.router)
    provider = KeyhouseProvider(settings, database, ClientMetadataDocuments(database))
    app.router.routes.extend(oauth.routes(settings, provider, app.state.rate_limits))
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    scrape = MetricsEndpoint(metrics, token).scrape
    app.router.routes.append(Route("/metrics", scrape, methods=["GET"], include_in_schema=False))
    app.add_middleware(
        RequestGuard,
        max_bytes=settings.max_body_bytes,
        larger_on={path: settings.max_import_bytes for path in csv_files.UPLOAD_PATHS},
    )
    app.add_middleware(SecurityHeaders, hsts=settings.uses_https)
    app.add_middleware(AccessLog, metrics=metrics, usage=app.state.usage)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    state = app.state
    await state.revocations.start()
    await state.usage.start()
    await state.metrics.start()
    try:
        async with state.mcp.session_manager.run():
            yield
    finally:
        await state.metrics.stop()
        await state.usage.stop()
        await state.rate_limits.close()
        await state.revocations.stop()
        await state.database.dispose()


def _add_health(app: FastAPI) -> None:
    @app.get("/healthz", tags=["health"], summary="The process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], summary="The database answers")
    async def readyz(request: Request) -> dict[str, str]:
        database: Database = request.app.state.database
        async with database.sessions() as session:
            await session.execute(text("SELECT 1"))
        return {"status": "ready"}


async def _error(
    request: Request,
    status: int,
    code: str,
    detail: str,
    headers: dict[str, str] | None = None,
) -> Response:
    if wants_page(request):
        return await error_page(request, status, detail)
    return JSONResponse({"error": code, "detail": detail}, status_code=status, headers=headers)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(KeyhouseError)
    async def keyhouse_error(request: Request, error: KeyhouseError) -> Response:
        return await _error(request, error.status, error.code, error.detail, error.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        problems = error.errors()
        if any(problem.get("type") == "json_invalid" for problem in problems):
            return await _error(request, 400, "invalid_json", "The body is not valid JSON.")
        detail = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc'][1:]) or 'body'}: {problem['msg']}"
            for problem in problems
        )
        return await _error(request, 422, "invalid_input", detail)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        code = HTTP_ERROR_CODES.get(error.status_code, "http_error")
        headers = dict(error.headers) if error.headers else None
        return await _error(request, error.status_code, code, str(error.detail), headers)

    @app.exception_handler(IntegrityError)
    async def integrity_error(request: Request, _error_: IntegrityError) -> Response:
        return await _error(
            request, 409, "conflict", "The change conflicts with existing data; retry."
        )

    async def database_down(request: Request, _error_: Exception) -> Response:
        return await _error(
            request, 503, "service_unavailable", "The database is unreachable; retry shortly."
        )

    for unreachable in (OperationalError, InterfaceError, ConnectionError, TimeoutError):
        app.add_exception_handler(unreachable, database_down)
    for raw in UNREACHABLE_POSTGRES:
        app.add_exception_handler(raw, database_down)

    @app.exception_handler(DBAPIError)
    async def driver_error(request: Request, error: DBAPIError) -> Response:
        cause = error.orig.__cause__ if error.orig is not None else None
        if error.connection_invalidated or isinstance(cause, UNREACHABLE_POSTGRES):
            return await database_down(request, error)
        raise error  # a bug, not an outage: the 500 and its traceback must show it
