"""The consent page of /oauth/authorize: sign in, see who asks for what, allow or deny."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.accounts.models import Account
from keyhouse.api_keys.models import AccessLevel
from keyhouse.auth.dependencies import SignedInUser
from keyhouse.config import Settings
from keyhouse.connections import service as connections
from keyhouse.db import DbSession
from keyhouse.errors import BadRequest
from keyhouse.mcp import tools
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


@dataclass(frozen=True)
class Tool:
    """An MCP tool as the consent page lists it."""

    name: str
    summary: str


def _tools(functions: Iterable[Callable[..., object]]) -> list[Tool]:
    return [Tool(f.__name__, (f.__doc__ or "").strip().splitlines()[0]) for f in functions]


READ_TOOLS = _tools(tools.READ_TOOLS)
WRITE_TOOLS = _tools(function for function, _ in tools.WRITE_TOOL_HINTS)


@router.get(CONSENT_PATH)
async def consent(
    request: Request, sealed: SealedRequest, db: DbSession, who: SignedInUser
) -> Response:
    """Who is asking, where the browser goes next, and the access this user may grant.

    Read-only is preselected, unless an admin's read-only connection of this client was
    refused a write and the client now asks for it: then full access is the evident choice.
    """
    settings: Settings = request.app.state.settings
    pending = grants.unseal(settings, sealed)
    user = await _user(db, who)
    account = await db.get_one(Account, user.account_id)
    choices = grants.choices_for(user, pending)
    history = await connections.client_history(
        db,
        user=user,
        client_id=pending.client_id,
        client_name=pending.client_name,
        redirect_host=pending.redirect_host,
    )
    step_up = (
        AccessLevel.FULL_ACCESS in choices
        and "write" in pending.requested
        and history.read_only_now
    )
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
            "known": history.known,
            "step_up": step_up,
            "preselect": "full_access" if step_up else "read_only",
            "read_tools": READ_TOOLS,
            "write_tools": WRITE_TOOLS,
            "here": f"{CONSENT_PATH}?{urlencode({'request': sealed})}",
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
