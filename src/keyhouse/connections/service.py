"""MCP connections: created on approval, capped by the user's current role, disconnected at once."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.api_keys import service as api_keys
from keyhouse.api_keys.models import AccessLevel, ApiKey
from keyhouse.audit.service import Actor, record
from keyhouse.auth import revocation
from keyhouse.auth.principal import Principal
from keyhouse.connections import repository
from keyhouse.connections.models import Connection
from keyhouse.errors import NotFound
from keyhouse.users.models import Role, User


def role_allows(role: Role) -> AccessLevel:
    """The most a role may grant: admins full access, everyone else read-only."""
    return AccessLevel.FULL_ACCESS if role == Role.ADMIN else AccessLevel.READ_ONLY


def effective_access(granted: AccessLevel, user: User) -> AccessLevel:
    """min(granted, what the user's role allows now); nothing for an inactive user."""
    if granted == AccessLevel.FULL_ACCESS and role_allows(user.role) == AccessLevel.FULL_ACCESS:
        return AccessLevel.FULL_ACCESS
    return AccessLevel.READ_ONLY


def in_force(connection: Connection, user: User, key: ApiKey, now: datetime) -> bool:
    """Whether a connection still works: not ended, its key usable, its user active."""
    return connection.revoked_at is None and key.is_usable(now) and user.active


@dataclass(frozen=True, slots=True)
class ConnectionView:
    """A connection as listed: with its user, its last use and its access now."""

    connection: Connection
    user: User
    key: ApiKey

    @property
    def effective_access(self) -> AccessLevel:
        """What the connection can do with the user's current role."""
        return effective_access(self.connection.granted_access, self.user)

    @property
    def is_capped(self) -> bool:
        """True when the user's role no longer allows what was granted."""
        return self.effective_access != self.connection.granted_access


@dataclass(frozen=True, slots=True)
class ClientHistory:
    """What the account knows of a client asking for consent."""

    # The account has connected this client before: its name is more than its own claim.
    known: bool
    # The user's live connection of this client is read-only: asking for write now is a
    # step-up after a refused write.
    read_only_now: bool


async def client_history(
    session: AsyncSession, *, user: User, client_id: str, client_name: str, redirect_host: str
) -> ClientHistory:
    """Whether the user's account has connected this client before, and how it is now."""
    seen = await repository.of_client_in_account(
        session,
        account_id=user.account_id,
        client_id=client_id,
        client_name=client_name,
        redirect_host=redirect_host,
    )
    live = [c for c in seen if c.user_id == user.id and c.revoked_at is None]
    read_only = any(c.granted_access == AccessLevel.READ_ONLY for c in live)
    return ClientHistory(known=bool(seen), read_only_now=read_only)


async def create(
    session: AsyncSession,
    *,
    secret: bytes,
    user: User,
    client_id: str,
    client_name: str,
    redirect_host: str,
    access: AccessLevel,
) -> Connection:
    """A connection backed by a new key; it replaces the user's older ones with this client."""
    actor = Actor(label=user.email, user_id=user.id)
    older = await repository.live_for_user(
        session,
        user_id=user.id,
        client_id=client_id,
        client_name=client_name,
        redirect_host=redirect_host,
    )
    for connection in older:
        await _end(session, actor, connection, reason="replaced")
    key = await api_keys.create_connection_key(
        session,
        secret=secret,
        account_id=user.account_id,
        user_id=user.id,
        name=f"{client_name} (MCP connection)",
        access_level=access,
    )
    connection = Connection(
        account_id=user.account_id,
        user_id=user.id,
        api_key_id=key.id,
        client_id=client_id,
        client_name=client_name,
        redirect_host=redirect_host,
        granted_access=access,
    )
    repository.add(session, connection)
    await session.flush()
    record(
        session,
        actor,
        account_id=user.account_id,
        action="connection.created",
        subject_id=connection.id,
        details={"client": client_name, "redirect_host": redirect_host, "access_level": access},
    )
    return connection


async def list_connections(
    session: AsyncSession, *, account_id: uuid.UUID, user_id: uuid.UUID | None = None
) -> Sequence[ConnectionView]:
    """The account's connections (or one user's), newest first."""
    rows = await repository.listing(session, account_id=account_id, user_id=user_id)
    return [ConnectionView(connection, user, key) for connection, user, key in rows]


async def get_view(
    session: AsyncSession, *, account_id: uuid.UUID, connection_id: uuid.UUID
) -> ConnectionView:
    """One connection of the account as listed, or NotFound."""
    rows = await repository.listing(session, account_id=account_id, connection_id=connection_id)
    if not rows:
        raise NotFound("connection")
    return ConnectionView(*rows[0])


async def find_in_force(
    session: AsyncSession, *, connection_id: uuid.UUID
) -> ConnectionView | None:
    """A connection found from its own code or token, if it still works now."""
    row = await repository.with_user_and_key(session, connection_id=connection_id)
    if row is None or not in_force(*row, datetime.now(UTC)):
        return None
    return ConnectionView(*row)


async def get_visible_view(
    session: AsyncSession, who: Principal, *, connection_id: uuid.UUID
) -> ConnectionView:
    """A connection an admin of its account, or its own user, may look at; NotFound otherwise."""
    view = await get_view(session, account_id=who.account_id, connection_id=connection_id)
    if not who.is_admin and view.connection.user_id != who.user_id:
        raise NotFound("connection")
    return view


async def disconnect(
    session: AsyncSession, actor: Actor, *, account_id: uuid.UUID, connection_id: uuid.UUID
) -> Connection:
    """End a connection: its key and every token stop working before this commits."""
    connection = await repository.get(session, account_id=account_id, connection_id=connection_id)
    if connection is None:
        raise NotFound("connection")
    await _end(session, actor, connection, reason="disconnected")
    return connection


async def disconnect_by_id(
    session: AsyncSession, actor: Actor, *, connection_id: uuid.UUID
) -> Connection:
    """Disconnect by id alone, for an operator at the command line."""
    connection = await repository.get_by_id(session, connection_id=connection_id)
    if connection is None:
        raise NotFound("connection")
    await _end(session, actor, connection, reason="disconnected")
    return connection


async def end(
    session: AsyncSession,
    actor: Actor,
    *,
    connection_id: uuid.UUID,
    reason: str,
    note: str | None = None,
) -> None:
    """End a connection found from a token or a code (client revocation, replay, reuse, leak).

    `note` says more in the audit log, e.g. where a leaked token was found.
    """
    connection = await repository.get_by_id(session, connection_id=connection_id)
    if connection is not None:
        await _end(session, actor, connection, reason=reason, note=note)


async def end_for_user(session: AsyncSession, actor: Actor, *, user: User) -> None:
    """End every connection of a user (on deactivation)."""
    for connection in await repository.live_for_user(session, user_id=user.id):
        await _end(session, actor, connection, reason="user_deactivated")


async def recheck_user(session: AsyncSession, *, user: User) -> None:
    """Make every instance re-derive the user's connections' access (after a role change)."""
    key_ids = await repository.key_ids_of_user(session, user_id=user.id)
    if key_ids:
        await revocation.announce(session, key_ids)


async def _end(
    session: AsyncSession,
    actor: Actor,
    connection: Connection,
    *,
    reason: str,
    note: str | None = None,
) -> None:
    if connection.revoked_at is not None:
        return
    connection.revoked_at = datetime.now(UTC)
    connection.revoked_reason = reason
    key = await session.get_one(ApiKey, connection.api_key_id)
    await api_keys.mark_revoked(session, key)
    action = "connection.disconnected" if reason == "disconnected" else f"connection.{reason}"
    record(
        session,
        actor,
        account_id=connection.account_id,
        action=action,
        subject_id=connection.id,
        details={
            "client": connection.client_name,
            "user_id": str(connection.user_id),
            **({"reason": f"revoked: {note}"} if note else {}),
        },
    )
