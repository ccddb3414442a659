"""The Jinja2 environment of every page, and `render`, the one way pages answer.

Pages extend `base.html` and fill its `title` and `content` blocks. Every template sees
`principal` (the signed-in Principal or None), `csrf_token` (put it in each form as the hidden
input `csrf_token`), `settings`, the filters `when` (a timestamp for people), `ago`, `until`
and `details`, and the macro `moment` in `_macros.html`.
"""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from keyhouse.web import sessions

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


def when(moment: datetime | None, empty: str = "—") -> str:
    """`2026-11-27 14:03 UTC`, or `empty` for no time at all."""
    return empty if moment is None else f"{moment:%Y-%m-%d %H:%M} UTC"


def ago(moment: datetime, now: datetime | None = None) -> str:
    """How long ago, in words: `just now`, `5 min ago`, `3 h ago`, `12 days ago`."""
    seconds = ((now or datetime.now(UTC)) - moment).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    days = int(seconds // 86400)
    return f"{days} day{'s' if days > 1 else ''} ago" if days < 60 else f"{moment:%Y-%m-%d}"


def until(moment: datetime, now: datetime | None = None) -> str:
    """How long until, in words: `in 59 min`, `in 23 h`, `in 6 days`; `now` once it passed."""
    seconds = (moment - (now or datetime.now(UTC))).total_seconds()
    if seconds <= 0:
        return "now"
    if seconds < 3600:
        return f"in {max(1, int(seconds // 60))} min"
    if seconds < 86400:
        return f"in {int(seconds // 3600)} h"
    days = int(seconds // 86400)
    return f"in {days} day{'s' if days > 1 else ''}"


def details(values: dict[str, Any]) -> str:
    """An audit event's details on one line: `name: Data sync · access_level: read_only`."""
    return " · ".join(f"{key}: {value}" for key, value in values.items())


def _page_context(request: Request) -> dict[str, Any]:
    found = getattr(request.state, "signed_in", None)
    return {
        "principal": found.principal if found is not None else None,
        "csrf_token": sessions.csrf_token(request),
        "settings": request.app.state.settings,
    }


templates = Jinja2Templates(directory=TEMPLATE_DIR, context_processors=[_page_context])
templates.env.filters["when"] = when
templates.env.filters["details"] = details
templates.env.filters["ago"] = ago
templates.env.filters["until"] = until


async def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> Response:
    """The page `name` for this request: never cached, with the pre-session cookie if needed."""
    await sessions.signed_in(request)  # so the header knows who is signed in
    response = templates.TemplateResponse(
        request, name, context or {}, status_code=status_code, headers={"Cache-Control": "no-store"}
    )
    sessions.set_pre_session_cookie(request, response)
    return response


def redirect(url: str) -> RedirectResponse:
    """See Other: after a form, the browser GETs `url`."""
    return RedirectResponse(url, status_code=303)
