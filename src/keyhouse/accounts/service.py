"""Creating and finding accounts."""

import re
import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.accounts import repository
from keyhouse.accounts.models import Account
from keyhouse.audit.service import Actor, record
from keyhouse.errors import InvalidInput, NotFound
from keyhouse.users import service as users
from keyhouse.users.models import Role, User


def slugify(name: str) -> str:
    """A URL-safe handle derived from a name."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:50] or "account"


async def create(
    session: AsyncSession,
    actor: Actor,
    *,
    name: str,
    admin_email: str,
    admin_password: str | None,
) -> tuple[Account, User]:
    """A new account with its first admin."""
    name = name.strip()
    if not name:
        raise InvalidInput("name: an account needs a name.")
    slug = slugify(name)
    while await repository.slug_taken(session, slug=slug):
        slug = f"{slugify(name)}-{secrets.token_hex(2)}"
    account = Account(name=name, slug=slug)
    repository.add(session, account)
    await session.flush()
    record(session, actor, account_id=account.id, action="account.created", subject_id=account.id)
    admin = await users.add(
        session, actor, account=account, email=admin_email, role=Role.ADMIN, password=admin_password
    )
    return account, admin


async def resolve(session: AsyncSession, *, id_or_slug: str) -> Account:
    """The account named by its id or slug, as the CLI accepts it."""
    account = await repository.find(session, id_or_slug=id_or_slug)
    if account is None:
        raise NotFound("account")
    return account


async def only_account_name(session: AsyncSession) -> str | None:
    """The account's name when this server has exactly one, else None."""
    names = await repository.first_names(session, limit=2)
    return names[0] if len(names) == 1 else None
