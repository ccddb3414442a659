"""Every page, and the static files they use."""

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from keyhouse.web import audit_log, details, members, security, signin, workspace
from keyhouse.web.templates import STATIC_DIR

router = APIRouter()
for pages in (signin, workspace, security, details, members, audit_log):
    router.include_router(pages.router)


def mount_pages(app: FastAPI) -> None:
    """Add the pages and `/static` to the app."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
