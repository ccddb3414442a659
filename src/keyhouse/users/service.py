"""Members of an account: adding them, changing roles, deactivating."""

import re

from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.accounts.models import Account
from keyhouse.audit.service import Actor, record
from keyhouse.connections import service as connections
from keyhouse.errors import Conflict, InvalidInput, NotFound
from keyhouse.kit.passwords import hash_password
from keyhouse.users import repository
from keyhouse.users.models import Role, User

EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
MIN_PASSWORD_LENGTH = 10


def normalize_email(email: str) -> str:
    """The stored form of an email; refuses what is not one."""
    email = email.strip().lower()
    if not EMAIL_RE.fullmatch(email):
        raise InvalidInput(f"email: {email!r} is not an email address.")
    return email


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
    email = normalize_email(email)
    if await repository.find_by_email(session, email=email) is not None:
        raise Conflict(f"email: a user with {email} already exists.")
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password: use at least {MIN_PASSWORD_LENGTH} characters.")
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


async def get_by_email(session: AsyncSession, *, email: str) -> User:
    """The user with this email."""
    user = await repository.find_by_email(session, email=normalize_email(email))
    if user is None:
        raise NotFound("user")
    return user


async def set_role(session: AsyncSession, actor: Actor, *, user: User, role: Role) -> User:
    """Change a user's role; the last active admin cannot be demoted."""
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
    if not user.active:
        return user
    await _keep_an_admin(session, user)
    user.active = False
    await connections.end_for_user(session, actor, user=user)
    record(
        session,
        actor,
        account_id=user.account_id,
        action="user.deactivated",
        subject_id=user.id,
        details={"email": user.email},
    )
    return user


async def _keep_an_admin(session: AsyncSession, user: User) -> None:
    admins = await repository.active_admins(session, account_id=user.account_id)
    if [admin.id for admin in admins] == [user.id]:
        raise Conflict("An account needs at least one active admin; promote another user first.")
