"""Settings → Security → API Keys: list, create and roll (secret shown once), revoke.

The Connections section of this page is added with the OAuth work.
"""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response

from keyhouse.api_keys import service as api_keys
from keyhouse.api_keys.models import DEFAULT_LIFETIME_DAYS, AccessLevel
from keyhouse.auth.dependencies import AdminUser, SignedInUser
from keyhouse.config import Settings
from keyhouse.connections import service as connections
from keyhouse.db import DbSession
from keyhouse.errors import InvalidInput
from keyhouse.users import service as users
from keyhouse.web.templates import redirect, render

router = APIRouter(include_in_schema=False, tags=["pages"])

EXPIRY_CHOICES = {"never": None, "30": 30, "90": 90, "365": 365}
DEFAULT_EXPIRY = str(DEFAULT_LIFETIME_DAYS)
# When a rolled key's predecessor stops working: (form value, label, seconds).
GRACE_CHOICES = [
    ("0", "Now", 0),
    ("3600", "In 1 hour", 3600),
    ("86400", "In 24 hours", 86400),
    ("604800", "In 7 days", 604800),
]


@router.get("/settings/security")
async def security(
    request: Request,
    db: DbSession,
    who: SignedInUser,
    revoked: Annotated[uuid.UUID | None, Query()] = None,
    disconnected: Annotated[uuid.UUID | None, Query()] = None,
) -> Response:
    """API keys (admins only) and the Connections section (members see their own)."""
    user_id = None if who.is_admin else who.user_id
    views = await connections.list_connections(db, account_id=who.account_id, user_id=user_id)
    context: dict[str, object] = {
        "keys": [],
        "creators": {},
        "revoked": None,
        "replaced": set(),
        "expiring": 0,
        "connections": [view for view in views if view.connection.revoked_at is None],
        "disconnected": next((v for v in views if v.connection.id == disconnected), None),
    }
    if who.is_admin:
        keys = await api_keys.list_api_keys(db, account_id=who.account_id)
        members = await users.list_members(db, account_id=who.account_id)
        context["keys"] = keys
        # A key already rolled runs out its grace period; only its replacement can be rolled.
        replaced = {key.rolled_from_id for key in keys if key.rolled_from_id}
        context["replaced"] = replaced
        context["expiring"] = sum(key.expires_soon and key.id not in replaced for key in keys)
        context["creators"] = {member.id: member.email for member in members}
        context["revoked"] = next((key for key in keys if key.id == revoked), None)
    return await render(request, "settings/security.html", context)


@router.get("/settings/security/api-keys/new")
async def new_api_key(request: Request, who: AdminUser) -> Response:
    """The Create API Key form."""
    form = {"expires_in_days": DEFAULT_EXPIRY}
    return await render(request, "settings/api_key_new.html", {"form": form})


@router.post("/settings/security/api-keys")
async def create_api_key(
    request: Request,
    db: DbSession,
    who: AdminUser,
    name: Annotated[str, Form(max_length=200)] = "",
    access_level: Annotated[str, Form(max_length=20)] = "",
    expires_in_days: Annotated[str, Form(max_length=10)] = DEFAULT_EXPIRY,
) -> Response:
    """Generate Key: the secret is on this response only, never stored or redirected."""
    settings: Settings = request.app.state.settings
    form = {"name": name, "access_level": access_level, "expires_in_days": expires_in_days}
    try:
        level = _access_level(access_level)
        days = _expiry_days(expires_in_days)
        key, secret = await api_keys.create(
            db,
            who.actor,
            secret=settings.secret,
            account_id=who.account_id,
            name=name,
            access_level=level,
            expires_at=datetime.now(UTC) + timedelta(days=days) if days else None,
        )
    except InvalidInput as error:
        context = {"form": form, "error": error.detail}
        return await render(request, "settings/api_key_new.html", context, status_code=422)
    return await render(request, "settings/api_key_created.html", {"key": key, "secret": secret})


def _access_level(value: str) -> AccessLevel:
    try:
        return AccessLevel(value)
    except ValueError as error:
        raise InvalidInput("Choose an access level: read-only or full access.") from error


def _expiry_days(value: str) -> int | None:
    if value not in EXPIRY_CHOICES:
        raise InvalidInput("Choose when the key expires: never, or in 30, 90 or 365 days.")
    return EXPIRY_CHOICES[value]


@router.get("/settings/security/api-keys/{key_id}/revoke")
async def confirm_revoke(
    request: Request, db: DbSession, who: AdminUser, key_id: uuid.UUID
) -> Response:
    """Ask before revoking, naming the key."""
    key = await api_keys.get_api_key(db, account_id=who.account_id, key_id=key_id)
    if key.revoked_at is not None:
        return redirect("/settings/security")
    return await render(request, "settings/api_key_revoke.html", {"key": key})


@router.post("/settings/security/api-keys/{key_id}/revoke")
async def revoke_api_key(db: DbSession, who: AdminUser, key_id: uuid.UUID) -> Response:
    """Revoke: refused everywhere before this response is sent."""
    key = await api_keys.get_api_key(db, account_id=who.account_id, key_id=key_id)
    await api_keys.revoke(db, who.actor, account_id=who.account_id, key_id=key.id)
    return redirect(f"/settings/security?revoked={key.id}#api-keys")


@router.get("/settings/security/api-keys/{key_id}/roll")
async def confirm_roll(
    request: Request, db: DbSession, who: AdminUser, key_id: uuid.UUID
) -> Response:
    """Ask when the old key should stop working, naming the key."""
    key = await api_keys.get_api_key(db, account_id=who.account_id, key_id=key_id)
    if key.status != "active":
        return redirect("/settings/security")
    context = {"key": key, "choices": GRACE_CHOICES, "chosen": "3600"}
    return await render(request, "settings/api_key_roll.html", context)


@router.post("/settings/security/api-keys/{key_id}/roll")
async def roll_api_key(
    request: Request,
    db: DbSession,
    who: AdminUser,
    key_id: uuid.UUID,
    expire_old_in: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Roll: the new secret is on this response only; the old key expires as chosen."""
    settings: Settings = request.app.state.settings
    key = await api_keys.get_api_key(db, account_id=who.account_id, key_id=key_id)
    seconds = next((grace for value, _, grace in GRACE_CHOICES if value == expire_old_in), None)
    if seconds is None:
        context = {"key": key, "choices": GRACE_CHOICES, "chosen": "3600"}
        context["error"] = "Choose when the old key stops working."
        return await render(request, "settings/api_key_roll.html", context, status_code=422)
    rolled = await api_keys.roll(
        db,
        who.actor,
        secret=settings.secret,
        account_id=who.account_id,
        key_id=key.id,
        expire_old_in=timedelta(seconds=seconds),
    )
    context = {"key": rolled.key, "secret": rolled.secret, "rolled": rolled}
    return await render(request, "settings/api_key_created.html", context)


@router.get("/settings/security/connections/{connection_id}/disconnect")
async def confirm_disconnect(
    request: Request, db: DbSession, who: AdminUser, connection_id: uuid.UUID
) -> Response:
    """Ask before disconnecting, naming the assistant and its user."""
    view = await connections.get_view(db, account_id=who.account_id, connection_id=connection_id)
    if view.connection.revoked_at is not None:
        return redirect("/settings/security#connections")
    return await render(request, "settings/connection_disconnect.html", {"view": view})


@router.post("/settings/security/connections/{connection_id}/disconnect")
async def disconnect(db: DbSession, who: AdminUser, connection_id: uuid.UUID) -> Response:
    """Disconnect: the assistant is refused everywhere before this response is sent."""
    await connections.disconnect(
        db, who.actor, account_id=who.account_id, connection_id=connection_id
    )
    return redirect(f"/settings/security?disconnected={connection_id}#connections")
