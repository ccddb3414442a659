"""SQL of connections; every query but the token lookup is scoped by account or user."""

import uuid
from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.api_keys.models import ApiKey
from keyhouse.connections.models import Connection
from keyhouse.users.models import User


def add(session: AsyncSession, connection: Connection) -> None:
    """Queue a new connection for insert."""
    session.add(connection)


async def get(
    session: AsyncSession, *, account_id: uuid.UUID, connection_id: uuid.UUID
) -> Connection | None:
    """A connection of the account, locked for update."""
    query = (
        select(Connection)
        .where(Connection.account_id == account_id, Connection.id == connection_id)
        .with_for_update()
    )
    return (await session.scalars(query)).one_or_none()


async def get_by_id(session: AsyncSession, *, connection_id: uuid.UUID) -> Connection | None:
    """A connection found from one of its own tokens or codes (which carry no account)."""
    query = select(Connection).where(Connection.id == connection_id).with_for_update()
    return (await session.scalars(query)).one_or_none()


async def live_for_user(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    client_id: str | None = None,
    client_name: str | None = None,
    redirect_host: str | None = None,
) -> Sequence[Connection]:
    """The user's live connections, optionally only those of one client.

    A client is the same client id, or the same name and redirect host: some assistants
    register a new client on every connect.
    """
    query = select(Connection).where(Connection.user_id == user_id, Connection.revoked_at.is_(None))
    if client_id is not None:
        query = query.where(
            or_(
                Connection.client_id == client_id,
                (Connection.client_name == client_name)
                & (Connection.redirect_host == redirect_host),
            )
        )
    return (await session.scalars(query.with_for_update())).all()


async def of_client_in_account(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    client_id: str,
    client_name: str,
    redirect_host: str,
) -> Sequence[Connection]:
    """Every connection of the account, live or ended, of one client (same id, or same name
    and redirect host)."""
    query = select(Connection).where(
        Connection.account_id == account_id,
        or_(
            Connection.client_id == client_id,
            (Connection.client_name == client_name) & (Connection.redirect_host == redirect_host),
        ),
    )
    return (await session.scalars(query)).all()


async def listing(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    user_id: uuid.UUID | None = None,
    connection_id: uuid.UUID | None = None,
) -> Sequence[tuple[Connection, User, ApiKey]]:
    """Connections of the account (or of one user, or just one) with user and backing key."""
    query = (
        select(Connection, User, ApiKey)
        .join(User, User.id == Connection.user_id)
        .join(ApiKey, ApiKey.id == Connection.api_key_id)
        .where(Connection.account_id == account_id)
        .order_by(Connection.created_at.desc(), Connection.id)
    )
    if user_id is not None:
        query = query.where(Connection.user_id == user_id)
    if connection_id is not None:
        query = query.where(Connection.id == connection_id)
    return [(row[0], row[1], row[2]) for row in (await session.execute(query)).all()]


async def with_user_and_key(
    session: AsyncSession, *, connection_id: uuid.UUID
) -> tuple[Connection, User, ApiKey] | None:
    """A connection with its user and backing key, found from its own code or token."""
    query = (
        select(Connection, User, ApiKey)
        .join(User, User.id == Connection.user_id)
        .join(ApiKey, ApiKey.id == Connection.api_key_id)
        .where(Connection.id == connection_id)
    )
    row = (await session.execute(query)).first()
    return None if row is None else (row[0], row[1], row[2])


async def key_ids_of_user(session: AsyncSession, *, user_id: uuid.UUID) -> set[uuid.UUID]:
    """The backing keys of all the user's connections."""
    query = select(Connection.api_key_id).where(Connection.user_id == user_id)
    return set((await session.scalars(query)).all())
