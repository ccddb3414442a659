"""create_app(settings): the one ASGI app — REST API, health, and (later) MCP, OAuth and pages."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException

from keyhouse import logs
from keyhouse.api_keys.usage import UsageRecorder
from keyhouse.auth import endpoints as me
from keyhouse.auth.authenticator import Authenticator
from keyhouse.auth.credential_cache import CredentialCache
from keyhouse.auth.revocation import RevocationFeed
from keyhouse.config import Settings
from keyhouse.coverage import endpoints as coverage
from keyhouse.crm_accounts import endpoints as crm_accounts
from keyhouse.csv_files import endpoints as csv_files
from keyhouse.db import Database
from keyhouse.distributions import endpoints as distributions
from keyhouse.errors import KeyhouseError
from keyhouse.kit.middleware import AccessLog, BodyLimit
from keyhouse.reps import endpoints as reps
from keyhouse.retrievals import endpoints as retrievals
from keyhouse.target_books import endpoints as target_books

HTTP_ERROR_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}


def create_app(settings: Settings | None = None) -> FastAPI:
    """The Keyhouse ASGI app for `settings` (read from the environment by default)."""
    settings = settings or Settings()
    logs.configure(settings.log_level)
    app = FastAPI(
        title="Keyhouse API",
        version="1",
        description="The workspace's REST API. Authenticate with `Authorization: Bearer <key>`.",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=_lifespan,
    )
    app.state.settings = settings
    _add_error_handlers(app)
    # csv_files first: its /accounts/export.csv must not be taken for /accounts/{account_id}.
    routers = (me, reps, csv_files, crm_accounts, target_books, distributions, retrievals, coverage)
    for module in routers:
        app.include_router(module.router)
    _add_health(app)
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        larger_on={path: settings.max_import_bytes for path in csv_files.UPLOAD_PATHS},
    )
    app.add_middleware(AccessLog)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    database = Database(settings)
    cache = CredentialCache()
    feed = RevocationFeed(settings, database.session_class, cache)
    usage = UsageRecorder(database, settings.last_used_flush_seconds)
    app.state.database = database
    app.state.authenticator = Authenticator(settings.secret, database, cache, feed, usage)
    await feed.start()
    await usage.start()
    try:
        yield
    finally:
        await usage.stop()
        await feed.stop()
        await database.dispose()


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


def _error(
    status: int, code: str, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": code, "detail": detail}, status_code=status, headers=headers)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(KeyhouseError)
    async def keyhouse_error(_request: Request, error: KeyhouseError) -> JSONResponse:
        return _error(error.status, error.code, error.detail, error.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
        problems = error.errors()
        if any(problem.get("type") == "json_invalid" for problem in problems):
            return _error(400, "invalid_json", "The body is not valid JSON.")
        detail = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc'][1:]) or 'body'}: {problem['msg']}"
            for problem in problems
        )
        return _error(422, "invalid_input", detail)

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, error: HTTPException) -> JSONResponse:
        code = HTTP_ERROR_CODES.get(error.status_code, "http_error")
        headers = dict(error.headers) if error.headers else None
        return _error(error.status_code, code, str(error.detail), headers)

    @app.exception_handler(IntegrityError)
    async def integrity_error(_request: Request, _error_: IntegrityError) -> JSONResponse:
        return _error(409, "conflict", "The change conflicts with existing data; retry.")

    async def database_down(_request: Request, _error_: Exception) -> JSONResponse:
        return _error(503, "service_unavailable", "The database is unreachable; retry shortly.")

    for unreachable in (OperationalError, InterfaceError, ConnectionError):
        app.add_exception_handler(unreachable, database_down)
