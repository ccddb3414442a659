"""Members of an account: adding them, changing roles, deactivating."""

import secrets
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import cache

from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.accounts.models import Account
from keyhouse.audit.service import Actor, record
from keyhouse.connections import service as connections
from keyhouse.errors import Conflict, InvalidInput, NotFound
from keyhouse.kit import tokens
from keyhouse.kit.emails import InvalidEmail, normalize_email, valid_email
from keyhouse.kit.passwords import hash_password, needs_rehash, verify_password
from keyhouse.users import repository
from keyhouse.users.models import Invitation, Role, User
from keyhouse.web import repository as web_sessions

MIN_PASSWORD_LENGTH = 10
# The same words whether the address is a member of this account or of another: emails are
# unique across Keyhouse (they are the sign-in name), but an admin learns nothing about
# other accounts from this answer.
EMAIL_TAKEN = "email: a user with this email already exists."


def stored_email(email: str) -> str:
    """The stored form of an email (the one rule of kit/emails.py); refuses what is not one."""
    try:
        return valid_email(email)
    except InvalidEmail as error:
        raise InvalidInput(f"email: {error}") from error


async def add(
    session: AsyncSession,
    actor: Actor,
    *,
    account: Account,
    email: str,
    role: Role,
    password: str | None,
) -> User:
    """A new active user of `account`."""
    email = stored_email(email)
    if await repository.find_by_email(session, email=email) is not None:
        raise Conflict(EMAIL_TAKEN)
    if password is not None:
        check_password(password)
    user = User(
        account_id=account.id,
        email=email,
        role=role,
        password_hash=hash_password(password) if password else None,
    )
    repository.add(session, user)
    await session.flush()
    record(
        session,
        actor,
        account_id=account.id,
        action="user.added",
        subject_id=user.id,
        details={"email": email, "role": role.value},
    )
    return user


def check_password(password: str) -> None:
    """Refuse a password too short to be one."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password: use at least {MIN_PASSWORD_LENGTH} characters.")


async def add_member(
    session: AsyncSession,
    actor: Actor,
    *,
    secret: bytes,
    account: Account,
    email: str,
    role: Role,
    password: str | None,
    invitation_lifetime: timedelta,
) -> tuple[User, str | None]:
    """A new member with a password, or without one and an invitation token to set it."""
    user = await add(session, actor, account=account, email=email, role=role, password=password)
    if password:
        return user, None
    token = await invite(session, actor, secret=secret, user=user, lifetime=invitation_lifetime)
    return user, token


@cache
def _stand_in_hash() -> str:
    return hash_password(secrets.token_urlsafe(32))


async def check_sign_in(
    session: AsyncSession, *, email: str, password: str
) -> tuple[User | None, bool]:
    """The user `email` names (if any) and whether this password signs them in.

    A matching hash made with older argon2 parameters is replaced by one with today's.
    Takes the same time whether or not the email exists, so timing does not tell.
    """
    user = await repository.find_by_email(session, email=normalize_email(email))
    stored = user.password_hash if user is not None and user.password_hash else None
    matches = verify_password(stored or _stand_in_hash(), password) and stored is not None
    accepted = matches and user is not None and user.active
    if accepted and user is not None and stored is not None and needs_rehash(stored):
        # The only moment the plain password is at hand: stronger parameters apply from now on.
        user.password_hash = hash_password(password)
    return user, accepted


async def get(session: AsyncSession, *, account_id: uuid.UUID, user_id: uuid.UUID) -> User:
    """The user of the account with this id."""
    user = await repository.get(session, account_id=account_id, user_id=user_id)
    if user is None:
        raise NotFound("member")
    return user


async def list_members(session: AsyncSession, *, account_id: uuid.UUID) -> Sequence[User]:
    """Every user of the account, deactivated ones included."""
    return await repository.list_for_account(session, account_id=account_id)


async def get_by_email(session: AsyncSession, *, email: str) -> User:
    """The user with this email."""
    user = await repository.find_by_email(session, email=stored_email(email))
    if user is None:
        raise NotFound("user")
    return user


async def set_role(session: AsyncSession, actor: Actor, *, user: User, role: Role) -> User:
    """Change a user's role; the last active admin cannot be demoted."""
    await repository.lock_members(session, user=user)
    if user.role == role:
        return user
    if role == Role.MEMBER:
        await _keep_an_admin(session, user)
    previous, user.role = user.role, role
    await connections.recheck_user(session, user=user)
    record(
        session,
        actor,
        account_id=user.account_id,
        action="user.role_changed",
        subject_id=user.id,
        details={"email": user.email, "from": previous, "to": role.value},
    )
    return user


async def deactivate(session: AsyncSession, actor: Actor, *, user: User) -> User:
    """Stop a user from signing in; the last active admin cannot be deactivated."""
    await repository.lock_members(session, user=user)
    if not user.active:
        return user
    await _keep_an_admin(session, user)
    user.active = False
    await connections.end_for_user(session, actor, user=user)
    await web_sessions.remove_for_user(session, user_id=user.id)
    record(
        session,
        actor,
        account_id=user.account_id,
        action="user.deactivated",
        subject_id=user.id,
        details={"email": user.email},
    )
    return user


async def reactivate(session: AsyncSession, actor: Actor, *, user: User) -> User:
    """Let a deactivated user sign in again."""
    if user.active:
        return user
    user.active = True
    record(
        session,
        actor,
        account_id=user.account_id,
        action="user.reactivated",
        subject_id=user.id,
        details={"email": user.email},
    )
    return user


async def invite(
    session: AsyncSession, actor: Actor, *, secret: bytes, user: User, lifetime: timedelta
) -> str:
    """A one-time link token for `user` to set a password; shown once, stored as a hash."""
    if user.password_hash is not None or not user.active:
        raise Conflict("Only an active user who has no password yet can be invited.")
    token = tokens.generate(tokens.TokenKind.INVITATION)
    expires_at = datetime.now(UTC) + lifetime
    invitation = Invitation(
        account_id=user.account_id,
        user_id=user.id,
        token_hash=tokens.keyed_hash(secret, token),
        created_by_user_id=actor.user_id,
        expires_at=expires_at,
    )
    repository.add_invitation(session, invitation)
    await session.flush()
    record(
        session,
        actor,
        account_id=user.account_id,
        action="user.invited",
        subject_id=user.id,
        details={"email": user.email, "expires_at": expires_at.isoformat()},
    )
    return token


async def open_invitation(session: AsyncSession, *, secret: bytes, token: str) -> User | None:
    """The user an unused, unexpired invitation token is for, else None."""
    if tokens.parse_kind(token) is not tokens.TokenKind.INVITATION:
        return None
    found = await repository.find_invitation(session, token_hash=tokens.keyed_hash(secret, token))
    if found is None:
        return None
    invitation, user = found
    usable = invitation.is_open(datetime.now(UTC)) and user.active and user.password_hash is None
    return user if usable else None


async def accept_invitation(
    session: AsyncSession, *, secret: bytes, token: str, password: str
) -> User:
    """Set the invited user's password; the link then stops working."""
    user = await open_invitation(session, secret=secret, token=token)
    if user is None:
        raise NotFound("invitation")
    check_password(password)
    user.password_hash = hash_password(password)
    await repository.close_invitations(session, user_id=user.id, now=datetime.now(UTC))
    record(
        session,
        Actor(label=user.email, user_id=user.id),
        account_id=user.account_id,
        action="user.invitation_accepted",
        subject_id=user.id,
        details={"email": user.email},
    )
    return user


async def pending_invitations(
    session: AsyncSession, *, account_id: uuid.UUID
) -> dict[uuid.UUID, datetime]:
    """When each user's open invitation expires, by user id."""
    return await repository.open_invitations(session, account_id=account_id, now=datetime.now(UTC))


async def _keep_an_admin(session: AsyncSession, user: User) -> None:
    admins = await repository.active_admins(session, account_id=user.account_id)
    if [admin.id for admin in admins] == [user.id]:
        raise Conflict("An account needs at least one active admin; promote another user first.")
