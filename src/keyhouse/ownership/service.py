"""Ownership changes: move accounts between owners atomically and keep their history."""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.audit.service import Actor
from keyhouse.auth.principal import Principal
from keyhouse.errors import Conflict
from keyhouse.kit.listing import Query
from keyhouse.kit.orm import utcnow
from keyhouse.kit.pagination import PageRequest
from keyhouse.ownership import repository
from keyhouse.ownership.models import ChangeReason, OwnershipChange

# Keeps each UPDATE's IN list well under every driver's bound-parameter limit.
CHUNK_SIZE = 500


@dataclass(frozen=True, slots=True)
class Move:
    """One account to move from its current owner (None: the pool) to another (None: the pool)."""

    crm_account_id: uuid.UUID
    from_rep_id: uuid.UUID | None
    to_rep_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class Origin:
    """Why accounts move and who moves them, as the history records it."""

    actor: Actor
    reason: ChangeReason
    distribution_id: uuid.UUID | None = None
    retrieval_id: uuid.UUID | None = None


def actor_of(principal: Principal) -> Actor:
    """The principal as history and the audit log name it."""
    return Actor(label=principal.actor_label, key_id=principal.key_id)


async def transfer(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    moves: Sequence[Move],
    origin: Origin,
    values: dict[str, Any] | None = None,
) -> datetime:
    """Apply every move or none: a 409 if any account changed owner since it was planned."""
    now = utcnow()
    groups: dict[tuple[uuid.UUID | None, uuid.UUID | None], list[uuid.UUID]] = defaultdict(list)
    for move in moves:
        groups[(move.from_rep_id, move.to_rep_id)].append(move.crm_account_id)
    for (from_rep_id, to_rep_id), ids in groups.items():
        for start in range(0, len(ids), CHUNK_SIZE):
            chunk = ids[start : start + CHUNK_SIZE]
            moved = await repository.move_owner(
                session,
                account_id=account_id,
                crm_account_ids=chunk,
                from_rep_id=from_rep_id,
                to_rep_id=to_rep_id,
                values=values or {},
                now=now,
            )
            if moved != len(chunk):
                raise Conflict("Some accounts changed owner meanwhile; nothing was moved. Retry.")
    await _record_moves(session, account_id=account_id, moves=moves, origin=origin, now=now)
    return now


async def _record_moves(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    moves: Sequence[Move],
    origin: Origin,
    now: datetime,
) -> None:
    shared = {
        "account_id": account_id,
        "reason": origin.reason,
        "distribution_id": origin.distribution_id,
        "retrieval_id": origin.retrieval_id,
        "actor": origin.actor.label,
        "actor_key_id": origin.actor.key_id,
        "created_at": now,
        "updated_at": now,
    }
    for start in range(0, len(moves), CHUNK_SIZE):
        rows = [
            {
                **shared,
                "id": uuid.uuid4(),
                "crm_account_id": move.crm_account_id,
                "from_rep_id": move.from_rep_id,
                "to_rep_id": move.to_rep_id,
            }
            for move in moves[start : start + CHUNK_SIZE]
        ]
        await repository.add_changes(session, rows)


def record_change(
    session: AsyncSession, *, account_id: uuid.UUID, move: Move, origin: Origin
) -> None:
    """Record a move the caller made itself (a manual owner change, an import)."""
    repository.add_change(
        session,
        OwnershipChange(
            account_id=account_id,
            crm_account_id=move.crm_account_id,
            from_rep_id=move.from_rep_id,
            to_rep_id=move.to_rep_id,
            reason=origin.reason,
            distribution_id=origin.distribution_id,
            retrieval_id=origin.retrieval_id,
            actor=origin.actor.label,
            actor_key_id=origin.actor.key_id,
        ),
    )


LISTING = repository.LISTING


def history_query(principal: Principal, *, crm_account_id: uuid.UUID, page: PageRequest) -> Query:
    """A page of one account's ownership changes, oldest first (the caller checks the account)."""
    return repository.page_query(
        account_id=principal.account_id, page=page, crm_account_id=crm_account_id
    )


def transfers_query(
    principal: Principal,
    *,
    page: PageRequest,
    distribution_id: uuid.UUID | None = None,
    retrieval_id: uuid.UUID | None = None,
) -> Query:
    """A page of the transfers one distribution or retrieval made (the caller checks the run)."""
    return repository.page_query(
        account_id=principal.account_id,
        page=page,
        distribution_id=distribution_id,
        retrieval_id=retrieval_id,
    )
