"""SQL of the authorization server: clients, codes and connection tokens."""

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.accounts.models import Account
from keyhouse.api_keys.models import ApiKey
from keyhouse.connections.models import Connection
from keyhouse.oauth.models import ConnectionToken, OAuthClient, OAuthCode, TokenKind
from keyhouse.users.models import User


async def get_client(session: AsyncSession, *, client_id: str) -> OAuthClient | None:
    """A registered or fetched client."""
    return await session.get(OAuthClient, client_id)


def add(session: AsyncSession, row: OAuthClient | OAuthCode | ConnectionToken) -> None:
    """Queue a new row for insert."""
    session.add(row)


async def find_code(session: AsyncSession, *, code_hash: str) -> OAuthCode | None:
    """The code with this hash, used or not."""
    query = select(OAuthCode).where(OAuthCode.code_hash == code_hash)
    return (await session.scalars(query)).one_or_none()


async def claim_code(session: AsyncSession, *, code_id: uuid.UUID, now: datetime) -> bool:
    """Mark a code used; False when another request used it first (a replay)."""
    result = await session.execute(
        update(OAuthCode)
        .where(OAuthCode.id == code_id, OAuthCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def find_token(
    session: AsyncSession, *, secret_hash: str, kind: TokenKind
) -> ConnectionToken | None:
    """A token of this kind with this hash."""
    query = select(ConnectionToken).where(
        ConnectionToken.secret_hash == secret_hash, ConnectionToken.kind == kind
    )
    return (await session.scalars(query)).one_or_none()


async def revoke_refresh_tokens(
    session: AsyncSession, *, connection_id: uuid.UUID, keep: uuid.UUID, now: datetime
) -> None:
    """Revoke every live refresh token of a connection except `keep`."""
    await session.execute(
        update(ConnectionToken)
        .where(
            ConnectionToken.connection_id == connection_id,
            ConnectionToken.kind == TokenKind.REFRESH,
            ConnectionToken.id != keep,
            ConnectionToken.revoked_at.is_(None),
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )


async def load_access_token(
    session: AsyncSession, *, secret_hash: str
) -> tuple[ConnectionToken, Connection, ApiKey, User, Account] | None:
    """An access token with everything that decides whether it still works."""
    query = (
        select(ConnectionToken, Connection, ApiKey, User, Account)
        .join(Connection, Connection.id == ConnectionToken.connection_id)
        .join(ApiKey, ApiKey.id == Connection.api_key_id)
        .join(User, User.id == Connection.user_id)
        .join(Account, Account.id == Connection.account_id)
        .where(ConnectionToken.secret_hash == secret_hash)
        .where(ConnectionToken.kind == TokenKind.ACCESS)
    )
    row = (await session.execute(query)).first()
    return None if row is None else (row[0], row[1], row[2], row[3], row[4])
