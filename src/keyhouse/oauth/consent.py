"""The consent page of /oauth/authorize: sign in, see who asks for what, allow or deny."""

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.accounts.models import Account
from keyhouse.api_keys.models import AccessLevel
from keyhouse.auth.dependencies import SignedInUser
from keyhouse.config import Settings
from keyhouse.db import DbSession
from keyhouse.errors import BadRequest
from keyhouse.oauth import grants
from keyhouse.oauth.provider import CONSENT_PATH
from keyhouse.users.models import User
from keyhouse.web.templates import redirect, render

router = APIRouter(include_in_schema=False, tags=["pages"])

SealedRequest = Annotated[str, Query(alias="request", max_length=8192)]


async def _user(session: AsyncSession, who: SignedInUser) -> User:
    user = await session.get(User, who.user_id)
    if user is None:  # the session outlived its user: sign in again
        raise BadRequest("Sign in again to continue.")
    return user


@router.get(CONSENT_PATH)
async def consent(
    request: Request, sealed: SealedRequest, db: DbSession, who: SignedInUser
) -> Response:
    """Who is asking, where the browser goes next, and the access this user may grant."""
    settings: Settings = request.app.state.settings
    pending = grants.unseal(settings, sealed)
    user = await _user(db, who)
    account = await db.get_one(Account, user.account_id)
    choices = grants.choices_for(user, pending)
    return await render(
        request,
        "oauth/consent.html",
        {
            "pending": pending,
            "sealed": sealed,
            "account": account,
            "user": user,
            "choices": choices,
            "client_may_write": "write" in pending.scopes,
            "preselect": "full_access" if "write" in pending.requested else "read_only",
        },
    )


@router.post(CONSENT_PATH)
async def decide(
    request: Request,
    db: DbSession,
    who: SignedInUser,
    sealed: Annotated[str, Form(alias="request", max_length=8192)],
    decision: Annotated[str, Form(pattern="^(allow|deny)$")],
    access: Annotated[AccessLevel, Form()] = AccessLevel.READ_ONLY,
) -> Response:
    """Allow: create the connection and send the code; deny: send `access_denied`."""
    settings: Settings = request.app.state.settings
    pending = grants.unseal(settings, sealed)
    if decision == "deny":
        return redirect(
            grants.redirect_with(
                settings,
                pending,
                error="access_denied",
                error_description="The user denied access.",
            )
        )
    user = await _user(db, who)
    url = await grants.approve(db, settings, user=user, pending=pending, access=access)
    return redirect(url)
