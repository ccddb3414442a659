"""Settings → Members: add (password or invite link), change role, deactivate, reactivate."""

import uuid
from collections.abc import Awaitable
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, Response

from keyhouse.accounts import service as accounts
from keyhouse.audit import service as audit
from keyhouse.auth.dependencies import AdminUser
from keyhouse.auth.principal import Principal
from keyhouse.config import Settings
from keyhouse.db import DbSession
from keyhouse.errors import InvalidInput, KeyhouseError
from keyhouse.users import service as users
from keyhouse.users.models import Role, User
from keyhouse.web.templates import redirect, render

router = APIRouter(include_in_schema=False, tags=["pages"])

MEMBERS = "/settings/members"


def invitation_url(settings: Settings, token: str) -> str:
    """The link an invited user opens to set a password."""
    return f"{settings.base_url}/invite/{token}"


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError as error:
        raise InvalidInput("Choose a role: admin or member.") from error


async def _members_page(
    request: Request,
    db: DbSession,
    who: Principal,
    *,
    status_code: int = 200,
    **context: Any,
) -> Response:
    members = await users.list_members(db, account_id=who.account_id)
    invited = await users.pending_invitations(db, account_id=who.account_id)
    signed_in = await audit.last_sign_ins(db, account_id=who.account_id)
    page = {
        "members": members,
        "invited": invited,
        "signed_in": signed_in,
        "roles": list(Role),
        "form": {},
        **context,
    }
    return await render(request, "settings/members.html", page, status_code=status_code)


@router.get(MEMBERS)
async def members(
    request: Request,
    db: DbSession,
    who: AdminUser,
    done: Annotated[str | None, Query(max_length=20)] = None,
    member: Annotated[uuid.UUID | None, Query()] = None,
) -> Response:
    """Every member with role and status, and the form to add one."""
    return await _members_page(request, db, who, done=done, done_member=member)


@router.post(MEMBERS)
async def add_member(
    request: Request,
    db: DbSession,
    who: AdminUser,
    email: Annotated[str, Form(max_length=320)] = "",
    role: Annotated[str, Form(max_length=20)] = "member",
    sign_in: Annotated[str, Form(max_length=20)] = "invite",
    password: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Add a member with a password, or show their invite link once."""
    settings: Settings = request.app.state.settings
    form = {"email": email, "role": role, "sign_in": sign_in}
    try:
        account = await accounts.resolve(db, id_or_slug=str(who.account_id))
        user, token = await users.add_member(
            db,
            who.actor,
            secret=settings.secret,
            account=account,
            email=email,
            role=_role(role),
            password=password if sign_in == "password" else None,
            invitation_lifetime=timedelta(days=settings.invitation_days),
        )
    except KeyhouseError as error:
        await db.rollback()
        return await _members_page(
            request, db, who, status_code=error.status, error=error.detail, form=form
        )
    if token is None:
        return _done("added", user)
    return await _invited(request, user, invitation_url(settings, token))


async def _invited(request: Request, user: User, link: str) -> Response:
    return await render(request, "settings/member_invited.html", {"member": user, "link": link})


def _done(what: str, user: User) -> Response:
    # A code and an id, not a sentence: the page words it, so a link cannot put text on it.
    return redirect(f"{MEMBERS}?done={what}&member={user.id}")


async def _act(
    request: Request, db: DbSession, who: Principal, done: str, change: Awaitable[User]
) -> Response:
    try:
        user = await change
    except KeyhouseError as error:
        await db.rollback()
        return await _members_page(request, db, who, status_code=error.status, error=error.detail)
    return _done(done, user)


@router.post(MEMBERS + "/{user_id}/role")
async def change_role(
    request: Request,
    db: DbSession,
    who: AdminUser,
    user_id: uuid.UUID,
    role: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Make a member an admin or an admin a member (never the last admin)."""
    user = await users.get(db, account_id=who.account_id, user_id=user_id)
    change = users.set_role(db, who.actor, user=user, role=_role(role))
    return await _act(request, db, who, "role", change)


@router.get(MEMBERS + "/{user_id}/deactivate")
async def confirm_deactivate(
    request: Request, db: DbSession, who: AdminUser, user_id: uuid.UUID
) -> Response:
    """Ask before deactivating, naming the member."""
    user = await users.get(db, account_id=who.account_id, user_id=user_id)
    return await render(request, "settings/member_deactivate.html", {"member": user})


@router.post(MEMBERS + "/{user_id}/deactivate")
async def deactivate(
    request: Request, db: DbSession, who: AdminUser, user_id: uuid.UUID
) -> Response:
    """Deactivate: their sessions end now (never the last admin)."""
    user = await users.get(db, account_id=who.account_id, user_id=user_id)
    change = users.deactivate(db, who.actor, user=user)
    return await _act(request, db, who, "deactivated", change)


@router.post(MEMBERS + "/{user_id}/reactivate")
async def reactivate(
    request: Request, db: DbSession, who: AdminUser, user_id: uuid.UUID
) -> Response:
    """Let a deactivated member sign in again."""
    user = await users.get(db, account_id=who.account_id, user_id=user_id)
    change = users.reactivate(db, who.actor, user=user)
    return await _act(request, db, who, "reactivated", change)


@router.post(MEMBERS + "/{user_id}/invite")
async def reinvite(request: Request, db: DbSession, who: AdminUser, user_id: uuid.UUID) -> Response:
    """A new invite link for a member who has not set a password yet."""
    settings: Settings = request.app.state.settings
    user = await users.get(db, account_id=who.account_id, user_id=user_id)
    lifetime = timedelta(days=settings.invitation_days)
    try:
        token = await users.invite(
            db, who.actor, secret=settings.secret, user=user, lifetime=lifetime
        )
    except KeyhouseError as error:
        return await _members_page(request, db, who, status_code=error.status, error=error.detail)
    return await _invited(request, user, invitation_url(settings, token))
