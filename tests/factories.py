"""Test data made through the real services, one call per thing."""

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update

from keyhouse.accounts import service as accounts
from keyhouse.accounts.models import Account
from keyhouse.api_keys import service as api_keys
from keyhouse.api_keys.models import AccessLevel, ApiKey
from keyhouse.audit.service import COMMAND_LINE
from keyhouse.config import Settings
from keyhouse.crm_accounts.models import CrmAccount
from keyhouse.db import Database
from keyhouse.reps.models import Rep
from keyhouse.target_books.models import TargetBook
from keyhouse.users import service as users
from keyhouse.users.models import Role, User


@dataclass
class Tenant:
    """An account with its admin, a read-only key and a full-access key."""

    account: Account
    admin: User
    read_key: str
    write_key: str

    def auth(self, access: AccessLevel = AccessLevel.READ_ONLY) -> dict[str, str]:
        """Authorization header for one of the tenant's keys."""
        secret = self.read_key if access is AccessLevel.READ_ONLY else self.write_key
        return {"Authorization": f"Bearer {secret}"}

    @property
    def read(self) -> dict[str, str]:
        """Header of the read-only key."""
        return self.auth(AccessLevel.READ_ONLY)

    @property
    def write(self) -> dict[str, str]:
        """Header of the full-access key."""
        return self.auth(AccessLevel.FULL_ACCESS)


def unique(prefix: str) -> str:
    """A name no other test uses."""
    return f"{prefix}-{secrets.token_hex(4)}"


async def make_tenant(database: Database, settings: Settings) -> Tenant:
    """A fresh account, its admin and two keys."""
    async with database.transaction() as session:
        account, admin = await accounts.create(
            session,
            COMMAND_LINE,
            name=unique("Tenant"),
            admin_email=f"{unique('admin')}@example.com",
            admin_password="correct horse battery",
        )
    _, read_key = await make_key(database, settings, account, AccessLevel.READ_ONLY)
    _, write_key = await make_key(database, settings, account, AccessLevel.FULL_ACCESS)
    return Tenant(account=account, admin=admin, read_key=read_key, write_key=write_key)


async def make_key(
    database: Database,
    settings: Settings,
    account: Account,
    access: AccessLevel,
    expires_in: timedelta | None = None,
) -> tuple[ApiKey, str]:
    """A key of `account` and its secret."""
    async with database.transaction() as session:
        return await api_keys.create(
            session,
            COMMAND_LINE,
            secret=settings.secret,
            account_id=account.id,
            name=unique("key"),
            access_level=access,
            expires_at=datetime.now(UTC) + expires_in if expires_in else None,
        )


async def revoke_key(database: Database, key: ApiKey) -> None:
    """Revoke through the service, as an admin would."""
    async with database.transaction() as session:
        await api_keys.revoke(session, COMMAND_LINE, account_id=key.account_id, key_id=key.id)


async def make_rep(database: Database, account: Account, **fields: Any) -> Rep:
    """A rep of `account`."""
    async with database.transaction() as session:
        rep = Rep(
            account_id=account.id,
            name=fields.pop("name", unique("Rep")),
            email=fields.pop("email", f"{unique('rep')}@example.com"),
            **fields,
        )
        session.add(rep)
    return rep


async def make_crm_account(database: Database, account: Account, **fields: Any) -> CrmAccount:
    """A CRM account of `account`."""
    async with database.transaction() as session:
        crm_account = CrmAccount(
            account_id=account.id, name=fields.pop("name", unique("Co")), **fields
        )
        session.add(crm_account)
    return crm_account


async def make_user(
    database: Database, account: Account, role: Role, *, password: str | None = None
) -> tuple[User, str]:
    """A user of `account` with a password, and that password."""
    password = password or f"pw-{secrets.token_hex(8)}"
    async with database.transaction() as session:
        user = await users.add(
            session,
            COMMAND_LINE,
            account=account,
            email=f"{unique(role.value)}@example.com",
            role=role,
            password=password,
        )
    return user, password


async def make_book(
    database: Database, account: Account, *, reps: Sequence[Rep] = (), **fields: Any
) -> TargetBook:
    """A target book of `account` with `reps` as members."""
    async with database.transaction() as session:
        book = TargetBook(
            account_id=account.id,
            name=fields.pop("name", unique("Book")),
            max_capacity=fields.pop("max_capacity", 10),
            criteria=fields.pop("criteria", []),
            **fields,
        )
        session.add(book)
        await session.flush()
        rep_ids = [rep.id for rep in reps]
        await session.execute(update(Rep).where(Rep.id.in_(rep_ids)).values(target_book_id=book.id))
    return book


async def make_crm_accounts(
    database: Database, account: Account, count: int, **fields: Any
) -> list[CrmAccount]:
    """`count` accounts named `Co 00000`…; fit_score falls from 100 unless given."""
    async with database.transaction() as session:
        made = [
            CrmAccount(
                account_id=account.id,
                name=f"Co {index:05d}",
                **{"fit_score": max(0, 100 - index), **fields},
            )
            for index in range(count)
        ]
        session.add_all(made)
    return made
