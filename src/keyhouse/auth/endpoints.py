"""GET /api/v1/me: who the bearer is."""

import uuid

from fastapi import APIRouter
from pydantic import BaseModel

from keyhouse.api_keys.models import AccessLevel
from keyhouse.auth.dependencies import ReadAccess
from keyhouse.auth.principal import CredentialKind, Scope

router = APIRouter(prefix="/api/v1", tags=["me"])


class AccountRef(BaseModel):
    """The account the credential belongs to."""

    id: uuid.UUID
    name: str
    slug: str


class CredentialRef(BaseModel):
    """The credential used for this request."""

    id: uuid.UUID
    name: str
    kind: CredentialKind


class Me(BaseModel):
    """Who is calling and with what effective access."""

    account: AccountRef
    credential: CredentialRef
    access_level: AccessLevel
    scopes: list[Scope]


@router.get("/me", summary="Who am I")
async def me(who: ReadAccess) -> Me:
    """The account, the credential and its effective access; answered from the principal."""
    return Me(
        account=AccountRef(id=who.account_id, name=who.account_name, slug=who.account_slug),
        credential=CredentialRef(
            id=who.credential_id, name=who.credential_name, kind=who.credential
        ),
        access_level=who.access,
        scopes=[scope for scope in Scope if who.allows(scope)],
    )
