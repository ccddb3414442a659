"""Browser sessions and CSRF tokens: the public API that every page (and the consent page) uses.

A session cookie holds a random token; the database holds only its keyed hash, so any instance
can serve any request and a database leak yields no usable cookie. The CSRF token is a keyed
hash of the session cookie (or, before sign-in, of a random pre-session cookie), so it needs no
storage and changes with every sign-in.
"""

import hmac
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode, urlsplit

from fastapi import Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.auth.authenticator import Authenticator, SignedIn
from keyhouse.config import Settings
from keyhouse.errors import Forbidden
from keyhouse.kit import tokens
from keyhouse.users.models import User
from keyhouse.web import repository
from keyhouse.web.models import WebSession

SESSION_COOKIE = "keyhouse_session"
PRE_SESSION_COOKIE = "keyhouse_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_UNSET = object()


class CsrfFailed(Forbidden):
    """A state-changing request without this browser's CSRF token."""

    code = "csrf_failed"

    def __init__(self) -> None:
        super().__init__("The form has expired or came from another site; reload it and retry.")


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def signed_in(request: Request) -> SignedIn | None:
    """The live session of this request (looked up once per request), or None."""
    cached = getattr(request.state, "signed_in", _UNSET)
    if cached is not _UNSET:
        return cached  # type: ignore[return-value]
    token = request.cookies.get(SESSION_COOKIE)
    authenticator: Authenticator = request.app.state.authenticator
    found = await authenticator.authenticate_session(token) if token else None
    request.state.signed_in = found
    return found


async def current_user(request: Request) -> User | None:
    """The signed-in user of this request, or None (then send them to `login_url(request)`)."""
    found = await signed_in(request)
    return None if found is None else found.user


def login_url(request: Request) -> str:
    """`/login?next=<this path and query>`: sign in, then come back here."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/login?" + urlencode({"next": target})


def csrf_token(request: Request) -> str:
    """This browser's CSRF token, for the hidden `csrf_token` input or the X-CSRF-Token header."""
    seed = _csrf_seed(request)
    if seed is None:
        # Set as a cookie by `render` on the response that carries the form.
        seed = request.state.new_pre_session = secrets.token_urlsafe(32)
    return _csrf_for(request, seed)


async def check_csrf(request: Request, submitted: str | None) -> None:
    """Refuse (403 csrf_failed) a state-changing request without this browser's token."""
    seed = _csrf_seed(request, include_new=False)
    if seed is None or not submitted or not _same_origin(request):
        raise CsrfFailed()
    if not hmac.compare_digest(_csrf_for(request, seed), submitted):
        raise CsrfFailed()


async def submitted_csrf(request: Request) -> str | None:
    """The token a request carries: the X-CSRF-Token header, or the form's `csrf_token`."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


def _csrf_seed(request: Request, *, include_new: bool = True) -> str | None:
    seed = request.cookies.get(SESSION_COOKIE) or request.cookies.get(PRE_SESSION_COOKIE)
    if seed is None and include_new:
        seed = getattr(request.state, "new_pre_session", None)
    return seed


def _csrf_for(request: Request, seed: str) -> str:
    return tokens.keyed_hash(_settings(request).secret, f"csrf:{seed}")


def _same_origin(request: Request) -> bool:
    # Defence in depth beside the token: browsers send Origin on every cross-site POST.
    origin = request.headers.get("origin")
    if origin is None:
        return True
    allowed = {request.headers.get("host"), urlsplit(_settings(request).base_url).netloc}
    return urlsplit(origin).netloc in allowed


def set_pre_session_cookie(request: Request, response: Response) -> None:
    """Send the pre-session cookie that `csrf_token` created for this response, if any."""
    seed = getattr(request.state, "new_pre_session", None)
    if seed is not None:
        response.set_cookie(
            PRE_SESSION_COOKIE,
            seed,
            httponly=True,
            samesite="lax",
            secure=_settings(request).uses_https,
        )


async def sign_in(request: Request, response: Response, db: AsyncSession, user: User) -> None:
    """Start a new session for `user` and set its cookie on `response`."""
    settings = _settings(request)
    now = datetime.now(UTC)
    lifetime = timedelta(days=settings.session_max_days)
    idle = timedelta(hours=settings.session_idle_hours)
    await repository.remove_stale(db, user_id=user.id, idle_before=now - idle, now=now)
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:  # signing in again in this browser replaces its session
        await repository.remove(db, token_hash=tokens.keyed_hash(settings.secret, previous))
    token = secrets.token_urlsafe(32)
    repository.add(
        db,
        WebSession(
            token_hash=tokens.keyed_hash(settings.secret, token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
        ),
    )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(lifetime.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=settings.uses_https,
    )


async def sign_out(request: Request, response: Response, db: AsyncSession) -> None:
    """End this browser's session everywhere and clear its cookie."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await repository.remove(db, token_hash=tokens.keyed_hash(_settings(request).secret, token))
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax")


def safe_next(target: str | None) -> str:
    """`target` if it is a path on this site (one leading "/"), else "/"."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target or any(ord(char) < 32 for char in target):
        return "/"
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else "/"
