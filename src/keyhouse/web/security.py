"""Settings → Security: API keys (list, create and roll with the secret shown once, revoke)
and connections (list, disconnect)."""

import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Request, Response

from keyhouse.api_keys import service as api_keys
from keyhouse.api_keys.models import DEFAULT_LIFETIME_DAYS, AccessLevel, ApiKey
from keyhouse.auth.dependencies import AdminUser, SignedInUser
from keyhouse.auth.principal import Principal
from keyhouse.config import Settings
from keyhouse.connections import service as connections
from keyhouse.db import DbSession
from keyhouse.errors import InvalidInput, NotFound
from keyhouse.users import service as users
from keyhouse.web import shown_once
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


ShowFilter = Annotated[Literal["active", "all"], Query()]


@router.get("/settings/security")
async def security(
    request: Request,
    db: DbSession,
    who: SignedInUser,
    show: ShowFilter = "active",
    q: Annotated[str, Query(max_length=100)] = "",
    sort: Annotated[Literal["created", "last_used"], Query()] = "created",
    created: Annotated[uuid.UUID | None, Query()] = None,
    revoked: Annotated[uuid.UUID | None, Query()] = None,
    disconnected: Annotated[uuid.UUID | None, Query()] = None,
) -> Response:
    """API keys (admins only) and the Connections section (members see their own)."""
    filters = {"show": show, "q": q.strip(), "sort": sort}
    context: dict[str, object] = {
        "filters": filters,
        "keys": [],
        "creators": {},
        "revoked": None,
        "created": created,
        "replaced": set(),
        "expiring": 0,
        **await _connections(db, who, show=show, disconnected=disconnected),
    }
    if who.is_admin:
        context.update(await _keys(db, who, filters=filters, revoked=revoked))
    return await render(request, "settings/security.html", context)


async def _keys(
    db: DbSession, who: Principal, *, filters: dict[str, str], revoked: uuid.UUID | None
) -> dict[str, object]:
    keys = await api_keys.list_api_keys(
        db,
        account_id=who.account_id,
        active_only=filters["show"] == "active",
        name_contains=filters["q"] or None,
        by_last_used=filters["sort"] == "last_used",
    )
    members = await users.list_members(db, account_id=who.account_id)
    return {
        "keys": keys,
        # A key already rolled runs out its grace period; only its replacement can be rolled.
        "replaced": {key.rolled_from_id for key in keys if key.rolled_from_id},
        "expiring": await api_keys.count_expiring_soon(db, account_id=who.account_id),
        "creators": {member.id: member.email for member in members},
        "revoked": await _revoked(db, who, revoked),
    }


async def _revoked(db: DbSession, who: Principal, key_id: uuid.UUID | None) -> ApiKey | None:
    """The key just revoked, for the notice; a stale or foreign id shows no notice."""
    if key_id is None:
        return None
    try:
        return await api_keys.get_api_key(db, account_id=who.account_id, key_id=key_id)
    except NotFound:
        return None


async def _connections(
    db: DbSession, who: Principal, *, show: str, disconnected: uuid.UUID | None
) -> dict[str, object]:
    user_id = None if who.is_admin else who.user_id
    views = await connections.list_connections(db, account_id=who.account_id, user_id=user_id)
    return {
        "connections": [v for v in views if show == "all" or v.connection.revoked_at is None],
        "disconnected": next((v for v in views if v.connection.id == disconnected), None),
    }


@router.get("/settings/security/api-keys/new")
async def new_api_key(request: Request, who: AdminUser) -> Response:
    """The Create API Key form, with the one-time id that makes a second submit harmless."""
    form = {"expires_in_days": DEFAULT_EXPIRY, "request_id": secrets.token_urlsafe(16)}
    return await render(request, "settings/api_key_new.html", {"form": form, "errors": {}})


@router.post("/settings/security/api-keys")
async def create_api_key(
    request: Request,
    db: DbSession,
    who: AdminUser,
    name: Annotated[str, Form(max_length=200)] = "",
    description: Annotated[str, Form(max_length=1000)] = "",
    access_level: Annotated[str, Form(max_length=20)] = "",
    expires_in_days: Annotated[str, Form(max_length=10)] = DEFAULT_EXPIRY,
    request_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Generate Key, then redirect to the page that shows the secret once.

    A reload, the back button or a second click sends the same `request_id`: it finds the
    key already made and goes to its page, which no longer shows the secret.
    """
    settings: Settings = request.app.state.settings
    request_id = request_id or secrets.token_urlsafe(16)
    made = await api_keys.find_created(db, account_id=who.account_id, request_id=request_id)
    if made is not None:
        return redirect(shown_once.page_path(made.id))
    form = {
        "name": name,
        "description": description,
        "access_level": access_level,
        "expires_in_days": expires_in_days,
        "request_id": request_id,
    }
    errors = _form_errors(access_level, expires_in_days)
    if not errors:
        try:
            days = EXPIRY_CHOICES[expires_in_days]
            key, secret = await api_keys.create(
                db,
                who.actor,
                secret=settings.secret,
                account_id=who.account_id,
                name=name,
                description=description,
                access_level=AccessLevel(access_level),
                expires_at=datetime.now(UTC) + timedelta(days=days) if days else None,
                request_id=request_id,
            )
        except InvalidInput as error:
            field, _, message = error.detail.partition(": ")
            errors = {field: message} if message else {"name": error.detail}
    if errors:
        context = {"form": form, "errors": errors}
        return await render(request, "settings/api_key_new.html", context, status_code=422)
    response = redirect(shown_once.page_path(key.id))
    shown_once.hand_over(settings, response, key.id, secret)
    return response


def _form_errors(access_level: str, expires_in_days: str) -> dict[str, str]:
    errors = {}
    if access_level not in {level.value for level in AccessLevel}:
        errors["access_level"] = "Choose an access level: read-only or full access."
    if expires_in_days not in EXPIRY_CHOICES:
        errors["expires_in_days"] = "Choose when the key expires: never, or in 30, 90 or 365 days."
    return errors


@router.get("/settings/security/api-keys/{key_id}/secret")
async def new_secret(
    request: Request, db: DbSession, who: AdminUser, key_id: uuid.UUID
) -> Response:
    """The secret of a key just created or rolled, once; a reload says it was shown."""
    settings: Settings = request.app.state.settings
    key = await api_keys.get_api_key(db, account_id=who.account_id, key_id=key_id)
    old = None
    if key.rolled_from_id is not None:
        old = await api_keys.get_api_key(db, account_id=who.account_id, key_id=key.rolled_from_id)
    context = {"key": key, "secret": shown_once.take(request, key.id), "old": old}
    response = await render(request, "settings/api_key_created.html", context)
    shown_once.forget(settings, response, key.id)
    return response


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
    # No fragment: scrolling to one would move focus away from the result notice.
    return redirect(f"/settings/security?show=all&revoked={key.id}")


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
    """Roll, then show the new secret once (post/redirect/get); the old key expires as chosen.

    A second submit finds the key already rolled and goes to its replacement's page.
    """
    settings: Settings = request.app.state.settings
    key = await api_keys.get_api_key(db, account_id=who.account_id, key_id=key_id)
    successor = await api_keys.find_successor(db, account_id=who.account_id, key_id=key.id)
    if successor is not None:
        return redirect(shown_once.page_path(successor))
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
    response = redirect(shown_once.page_path(rolled.key.id))
    shown_once.hand_over(settings, response, rolled.key.id, rolled.secret)
    return response


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
    return redirect(f"/settings/security?show=all&disconnected={connection_id}")
