"""/api/v1/api-keys: the Security page's key actions over JSON, for a signed-in admin only."""

import uuid
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request, Response

from keyhouse.api_keys import service
from keyhouse.api_keys.schemas import (
    ApiKeyOut,
    CreatedApiKey,
    KeyRateLimit,
    ListedApiKey,
    NewApiKey,
    RollApiKey,
    RolledApiKey,
)
from keyhouse.auth.dependencies import AdminUser
from keyhouse.config import Settings
from keyhouse.db import DbSession
from keyhouse.users import service as users

router = APIRouter(prefix="/api/v1/api-keys", tags=["api keys (admins, signed in)"])


@router.get("", summary="List API keys")
async def list_api_keys(db: DbSession, who: AdminUser) -> list[ListedApiKey]:
    """Every API key of the account, newest first, revoked ones included; never a secret."""
    keys = await service.list_api_keys(db, account_id=who.account_id)
    emails = {
        user.id: user.email for user in await users.list_members(db, account_id=who.account_id)
    }
    return [
        ListedApiKey.model_validate(
            {
                **ApiKeyOut.model_validate(key).model_dump(),
                "created_by": emails.get(key.created_by_user_id)
                if key.created_by_user_id
                else None,
            }
        )
        for key in keys
    ]


@router.post("", status_code=201, summary="Create an API key")
async def create_api_key(
    body: NewApiKey, request: Request, response: Response, db: DbSession, who: AdminUser
) -> CreatedApiKey:
    """A new key; `secret` is in this response only and can never be read again."""
    settings: Settings = request.app.state.settings
    key, secret = await service.create(
        db,
        who.actor,
        secret=settings.secret,
        account_id=who.account_id,
        name=body.name,
        access_level=body.access_level,
        expires_at=body.expiry(datetime.now(UTC)),
        rate_limit=body.rate_limit,
        description=body.description,
    )
    response.headers["Cache-Control"] = "no-store"
    return CreatedApiKey.model_validate(
        {**ApiKeyOut.model_validate(key).model_dump(), "secret": secret}
    )


@router.post("/{key_id}/revoke", summary="Revoke an API key")
async def revoke_api_key(key_id: uuid.UUID, db: DbSession, who: AdminUser) -> ApiKeyOut:
    """Revoke: every request with the key is refused, on every instance, once this returns."""
    key = await service.get_api_key(db, account_id=who.account_id, key_id=key_id)
    key = await service.revoke(db, who.actor, account_id=who.account_id, key_id=key.id)
    return ApiKeyOut.model_validate(key)


@router.post("/{key_id}/roll", status_code=201, summary="Roll an API key")
async def roll_api_key(
    key_id: uuid.UUID,
    body: RollApiKey,
    request: Request,
    response: Response,
    db: DbSession,
    who: AdminUser,
) -> RolledApiKey:
    """A new key like this one, `secret` shown once; the old key works until `old_expires_at`.

    409 when the key is revoked, expired or already rolled.
    """
    settings: Settings = request.app.state.settings
    rolled = await service.roll(
        db,
        who.actor,
        secret=settings.secret,
        account_id=who.account_id,
        key_id=key_id,
        expire_old_in=timedelta(seconds=body.expire_old_in_seconds),
    )
    response.headers["Cache-Control"] = "no-store"
    return RolledApiKey.model_validate(
        {
            **ApiKeyOut.model_validate(rolled.key).model_dump(),
            "secret": rolled.secret,
            "rolled_from": rolled.old.id,
            "old_expires_at": rolled.old_expires_at,
        }
    )


@router.put("/{key_id}/rate-limit", summary="Set an API key's request limit")
async def set_api_key_rate_limit(
    key_id: uuid.UUID, body: KeyRateLimit, db: DbSession, who: AdminUser
) -> ApiKeyOut:
    """Requests the key may make (e.g. `1200/minute`); null returns it to the default."""
    key = await service.set_rate_limit(
        db, who.actor, account_id=who.account_id, key_id=key_id, rate_limit=body.rate_limit
    )
    return ApiKeyOut.model_validate(key)
