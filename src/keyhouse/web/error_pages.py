"""Errors on pages: a friendly page instead of JSON, and a sign-in redirect instead of a 401."""

from fastapi import Request, Response

from keyhouse.db import Database
from keyhouse.users import service as users
from keyhouse.users.models import Role
from keyhouse.web import sessions
from keyhouse.web.templates import redirect, render

PAGE_TAG = "pages"
TITLES = {
    400: "That request did not work",
    403: "You don't have access to this page",
    404: "Page not found",
    405: "That request did not work",
    409: "That change is not possible",
    413: "That request is too large",
    422: "Please check the form",
    429: "Too many attempts",
    503: "Keyhouse cannot reach its database",
}


async def _admins(request: Request) -> list[str]:
    """Whom a member refused an admin page can ask: the active admins of their account."""
    found = await sessions.signed_in(request)
    if found is None:
        return []
    database: Database = request.app.state.database
    async with database.sessions() as db:
        members = await users.list_members(db, account_id=found.principal.account_id)
    return [m.email for m in members if m.active and m.role is Role.ADMIN]


def wants_page(request: Request) -> bool:
    """True for page routes, and for browsers asking for HTML outside the API."""
    route = request.scope.get("route")
    if route is not None and PAGE_TAG in (getattr(route, "tags", None) or ()):
        return True
    if request.url.path.startswith("/api/"):
        return False
    return "text/html" in request.headers.get("accept", "")


async def error_page(request: Request, status: int, detail: str) -> Response:
    """The error as a page; a missing sign-in goes to /login and comes back after."""
    if status == 401:
        return redirect(sessions.login_url(request) if request.method == "GET" else "/login")
    if status == 503:
        request.state.signed_in = None  # the database is down: render without asking it
    title = TITLES.get(status, "Something went wrong")
    context = {"status": status, "title": title, "detail": detail, "admins": []}
    if status == 403:
        context["admins"] = await _admins(request)
    return await render(request, "error.html", context, status_code=status)
