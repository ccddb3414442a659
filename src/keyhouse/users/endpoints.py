"""/api/v1/members: the Members page's actions over JSON, for a signed-in admin only."""

import uuid
from datetime import timedelta

from fastapi import APIRouter, Request

from keyhouse.accounts import service as accounts
from keyhouse.auth.dependencies import AdminUser
from keyhouse.config import Settings
from keyhouse.db import DbSession
from keyhouse.users import service
from keyhouse.users.schemas import AddedMember, MemberChange, MemberOut, NewMember

router = APIRouter(prefix="/api/v1/members", tags=["members (admins, signed in)"])


@router.get("", summary="List members")
async def list_members(db: DbSession, who: AdminUser) -> list[MemberOut]:
    """Every member of the account, by email, deactivated ones included."""
    members = await service.list_members(db, account_id=who.account_id)
    return [MemberOut.model_validate(member) for member in members]


@router.post("", status_code=201, summary="Add a member")
async def add_member(
    body: NewMember, request: Request, db: DbSession, who: AdminUser
) -> AddedMember:
    """A new member; without a password the answer carries a one-time invitation link."""
    settings: Settings = request.app.state.settings
    account = await accounts.resolve(db, id_or_slug=str(who.account_id))
    user, token = await service.add_member(
        db,
        who.actor,
        secret=settings.secret,
        account=account,
        email=body.email,
        role=body.role,
        password=body.password,
        invitation_lifetime=timedelta(days=settings.invitation_days),
    )
    link = f"{settings.base_url}/invite/{token}" if token else None
    return AddedMember.model_validate(
        {**MemberOut.model_validate(user).model_dump(), "invitation_url": link}
    )


@router.patch("/{user_id}", summary="Change a member's role or active state")
async def change_member(
    user_id: uuid.UUID, body: MemberChange, db: DbSession, who: AdminUser
) -> MemberOut:
    """The last active admin can be neither demoted nor deactivated (409)."""
    user = await service.get(db, account_id=who.account_id, user_id=user_id)
    if body.role is not None:
        user = await service.set_role(db, who.actor, user=user, role=body.role)
    if body.active is False:
        user = await service.deactivate(db, who.actor, user=user)
    elif body.active:
        user = await service.reactivate(db, who.actor, user=user)
    return MemberOut.model_validate(user)
