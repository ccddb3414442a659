"""Pages to sign in, sign out, and accept an invitation."""

from typing import Annotated
from urllib.parse import parse_qs, urlencode, urlsplit

import structlog
from fastapi import APIRouter, Form, Query, Request, Response

from keyhouse.accounts import service as accounts
from keyhouse.audit.service import Actor, record
from keyhouse.auth.dependencies import SignedInUser
from keyhouse.config import Settings
from keyhouse.db import DbSession
from keyhouse.errors import BadRequest, InvalidInput
from keyhouse.kit.emails import normalize_email
from keyhouse.kit.rate_limits import RateLimited, RateLimits
from keyhouse.oauth import grants
from keyhouse.oauth.provider import CONSENT_PATH
from keyhouse.users import service as users
from keyhouse.users.models import User
from keyhouse.web import sessions
from keyhouse.web.templates import redirect, render

router = APIRouter(include_in_schema=False, tags=["pages"])
log = structlog.get_logger(__name__)

WRONG_CREDENTIALS = "Wrong email or password."

# Long enough for a consent page's address, which carries the sealed authorization request.
NextForm = Annotated[str, Form(alias="next", max_length=9000)]
CsrfForm = Annotated[str, Form(alias=sessions.CSRF_FIELD, max_length=200)]


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/login", name="login_form")
async def login_form(
    request: Request,
    db: DbSession,
    next_path: Annotated[str, Query(alias="next", max_length=9000)] = "/",
) -> Response:
    """The sign-in form; a signed-in visitor goes straight on to `next`."""
    target = sessions.safe_next(next_path)
    if await sessions.signed_in(request) is not None:
        return redirect(target)
    context = {"next": target, **await _connecting(request, db, target)}
    return await render(request, "login.html", context)


async def _connecting(request: Request, db: DbSession, target: str) -> dict[str, str]:
    """When signing in leads to a consent page: the assistant asking, and the workspace.

    The workspace is named only when this server has just one: otherwise the visitor's
    workspace is not known before they sign in, and another's name is not for them.
    """
    parts = urlsplit(target)
    sealed = parse_qs(parts.query).get("request")
    if parts.path != CONSENT_PATH or not sealed:
        return {}
    try:
        pending = grants.unseal(request.app.state.settings, sealed[0])
    except BadRequest:
        return {}
    workspace = await accounts.only_account_name(db)
    return {"client_name": pending.client_name, "workspace": workspace or "your workspace"}


@router.post("/login")
async def login(
    request: Request,
    db: DbSession,
    csrf: CsrfForm = "",
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next_path: NextForm = "/",
) -> Response:
    """Check the password; on success start a session and go on to `next`."""
    await sessions.check_csrf(request, csrf)
    email = normalize_email(email)
    target = sessions.safe_next(next_path)
    limits: RateLimits = request.app.state.rate_limits
    try:
        await limits.sign_in_allowed(email=email, client=_address(request))
    except RateLimited as error:
        response = await _refuse(request, db, error.detail, email, target, status_code=429)
        response.headers.update(error.headers)
        return response
    user, accepted = await users.check_sign_in(db, email=email, password=password)
    if user is None or not accepted:
        await limits.sign_in_failed(email=email, client=_address(request))
        _record_failure(request, db, user)
        return await _refuse(request, db, WRONG_CREDENTIALS, email, target, status_code=400)
    await limits.sign_in_succeeded(email=email)
    response = redirect(target)
    await sessions.sign_in(request, response, db, user)
    _record(request, db, user, "user.signed_in")
    return response


async def _refuse(
    request: Request, db: DbSession, error: str, email: str, target: str, *, status_code: int
) -> Response:
    context = {"error": error, "email": email, "next": target}
    context.update(await _connecting(request, db, target))
    return await render(request, "login.html", context, status_code=status_code)


def _record(request: Request, db: DbSession, user: User, action: str, **details: str) -> None:
    record(
        db,
        Actor(label=user.email, user_id=user.id),
        account_id=user.account_id,
        action=action,
        subject_id=user.id,
        details={"address": _address(request), **details},
    )


def _record_failure(request: Request, db: DbSession, user: User | None) -> None:
    if user is None:
        log.info("sign_in_failed", reason="unknown_email", address=_address(request))
        return
    reason = "deactivated" if not user.active else "wrong_password"
    _record(request, db, user, "user.sign_in_failed", reason=reason)


@router.post("/logout")
async def logout(
    request: Request, db: DbSession, who: SignedInUser, next_path: NextForm = ""
) -> Response:
    """End this browser's session; `next` (a consent page's "not you?") comes after sign-in."""
    target = sessions.safe_next(next_path) if next_path else "/"
    response = redirect("/login" if target == "/" else f"/login?{urlencode({'next': target})}")
    await sessions.sign_out(request, response, db)
    user = await sessions.current_user(request)
    if user is not None:
        _record(request, db, user, "user.signed_out")
    return response


@router.get("/invite/{token}")
async def invitation_form(request: Request, db: DbSession, token: str) -> Response:
    """The form where an invited user sets a password."""
    settings: Settings = request.app.state.settings
    user = await users.open_invitation(db, secret=settings.secret, token=token)
    if user is None:
        return await render(request, "invite_closed.html", status_code=404)
    return await render(request, "invite.html", {"email": user.email, "token": token})


@router.post("/invite/{token}")
async def accept_invitation(
    request: Request,
    db: DbSession,
    token: str,
    csrf: CsrfForm = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    confirm: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Set the password, sign in, and open the workspace."""
    await sessions.check_csrf(request, csrf)
    settings: Settings = request.app.state.settings
    user = await users.open_invitation(db, secret=settings.secret, token=token)
    if user is None:
        return await render(request, "invite_closed.html", status_code=404)
    try:
        if password != confirm:
            raise InvalidInput("The two passwords differ.")
        user = await users.accept_invitation(
            db, secret=settings.secret, token=token, password=password
        )
    except InvalidInput as error:
        context = {"email": user.email, "token": token, "error": error.detail}
        return await render(request, "invite.html", context, status_code=422)
    response = redirect("/")
    await sessions.sign_in(request, response, db, user)
    _record(request, db, user, "user.signed_in")
    return response
